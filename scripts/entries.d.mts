/** Types of scripts/entries.mjs, for vitest.config.ts and the tests. */
export declare const ENTRIES: Record<string, string>;
export declare function specifierOf(name: string): string;
