import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { StageConfig } from './config';

/** The stage's log retention (the config only allows values that RetentionDays defines). */
export const logRetention = (stage: StageConfig): RetentionDays => stage.logRetentionDays as RetentionDays;
