export { awsLambda } from './handler.js';
export type { AwsLambdaHandler, AwsLambdaOptions } from './handler.js';
export type { AlbEvent, ApiGatewayV1Event, ApiGatewayV2Event, FrontDoor, LambdaContext, LambdaHttpEvent, LambdaHttpResult } from './types.js';
export { ENVIRONMENT, PROFILES } from '../profiles.js';
export type { LimitOptions, PlatformProfile, ProfileName } from '../profiles.js';
