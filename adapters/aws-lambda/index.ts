export { awsLambda } from './handler.js';
export type {
  AlbEvent,
  AwsLambdaHandler,
  AwsLambdaOptions,
  ApiGatewayV1Event,
  ApiGatewayV2Event,
  FrontDoor,
  LambdaContext,
  LambdaHttpEvent,
  LambdaHttpResult,
} from './types.js';
export { ENVIRONMENT } from '../limits.js';
export type { LimitOptions } from '../limits.js';
export { PROFILES } from '../profiles.js';
export type { PlatformProfile, ProfileName } from '../profiles.js';
export type { StringListMap, StringMap, V1RequestFields } from '../lambda/types.js';
