/**
 * Alarms and a dashboard for one region. Alarms notify the region's operations team by e-mail
 * through an encrypted SNS topic (on alarm and on recovery).
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { METRIC_NAMES, SERVICE_NAME } from '../functions/metric-names';
import type { ApiStack } from './api-stack';
import type { RegionConfig, StageConfig } from './config';
import { serviceKey } from './constructs/keys';
import type { MessagingStack } from './messaging-stack';
import { metricsNamespace } from './naming';

export interface MonitoringStackProps extends StackProps {
  stage: StageConfig;
  regionConfig: RegionConfig;
  api: ApiStack;
  messaging: MessagingStack;
}

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);

export class MonitoringStack extends Stack {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, {
      ...props,
      description: `Child protection sharing (${props.stage.name}): alarms and dashboard in ${props.regionConfig.region}`,
    });
    const { stage, regionConfig, api, messaging } = props;
    const thresholds = stage.alarms;

    const key = serviceKey(
      this,
      'AlarmTopicKey',
      `Encrypts ${stage.name} alarm notifications in ${regionConfig.region}`,
    );
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: `Child protection sharing ${stage.name} ${regionConfig.region} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of regionConfig.alarmEmails) this.topic.addSubscription(new EmailSubscription(email));
    const notify = new SnsAction(this.topic);

    const alarm = (
      id: string,
      metric: IMetric,
      threshold: number,
      description: string,
      options: { evaluationPeriods?: number; datapointsToAlarm?: number } = {},
    ) => {
      const created = new Alarm(this, id, {
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        datapointsToAlarm: options.datapointsToAlarm,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `${description} Runbook: docs/deploy.md.`,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };

    const requests = api.api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' });
    const serverErrors = api.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' });
    const clientErrors = api.api.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' });
    const serverErrorRate = new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { requests, errors: serverErrors },
      period: FIVE_MINUTES,
      label: '5xx rate (%)',
    });
    alarm(
      'ApiServerErrorRate',
      serverErrorRate,
      thresholds.serverErrorRatePercent,
      `More than ${thresholds.serverErrorRatePercent}% of API requests answered 5xx over 5 minutes.`,
    );
    const p99 = api.api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' });
    alarm(
      'ApiP99Latency',
      p99,
      thresholds.p99LatencyMs,
      `API p99 latency above ${thresholds.p99LatencyMs} ms.`,
      {
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      },
    );

    // Counted by the authorizer itself (Powertools Metrics, embedded metric format) in the namespace the
    // Api stack gives it, with Powertools' service dimension.
    const identityUnreachable = new Metric({
      namespace: metricsNamespace(stage.name),
      metricName: METRIC_NAMES.identityServiceUnreachable,
      dimensionsMap: { service: SERVICE_NAME },
      period: ONE_MINUTE,
      statistic: 'Sum',
    });
    alarm(
      'IdentityServiceUnreachable',
      identityUnreachable,
      0,
      'The authorizer refused tokens because an identity service (CIS2 or a client-credentials issuer: discovery, key set or UserInfo) did not answer within 2 seconds: callers get 401. Its log names the issuer (docs/deploy.md).',
    );

    const dlqDepth = (queueMetric: Metric) => queueMetric.with({ period: ONE_MINUTE, statistic: 'Maximum' });
    const oldestMinutes = thresholds.councilQueueOldestMessageMinutes;
    for (const council of messaging.councilQueues) {
      const code = council.council.code;
      alarm(
        `DeadLetters${code}`,
        dlqDepth(council.metricMessagesVisible({ deadLetters: true })),
        0,
        `Messages for council ${code} reached its dead-letter queue: its system failed to process them ${council.council.maxReceiveCount} times.`,
      );
      alarm(
        `NotificationsWaiting${code}`,
        council.metricAgeOfOldestMessage({ period: FIVE_MINUTES, statistic: 'Maximum' }),
        oldestMinutes * 60,
        `Council ${code} has left a notification unreceived for over ${oldestMinutes} minutes: its system may have stopped receiving (SQS deletes messages after 14 days). Tell the council's duty contact.`,
      );
    }
    alarm(
      'DispatchFailures',
      dlqDepth(messaging.dispatchFailures.metricApproximateNumberOfMessagesVisible()),
      0,
      'The dispatcher gave up on stream records: notifications may be undelivered; replay them (docs/deploy.md).',
    );

    alarm(
      'AuditTrailChanged',
      messaging.auditTrailChanges,
      0,
      'An audit event was changed or removed, which no function may do: the dispatch function logged its key (auditEventKey).',
    );
    alarm(
      'UndeliverableNotifications',
      messaging.undeliverableNotifications,
      0,
      'A notification is for a council that no region of the stage has a queue for: add the council to the stage config, deploy every region, then deliver them again from the audit events the log names (docs/deploy.md).',
    );

    const dispatch = messaging.dispatch;
    alarm(
      'DispatchErrors',
      dispatch.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
      0,
      'The dispatch function failed (records are retried; notifications are delayed).',
    );
    const iteratorAge = dispatch.metric('IteratorAge', { period: ONE_MINUTE, statistic: 'Maximum' });
    alarm(
      'DispatchIteratorAge',
      iteratorAge,
      thresholds.streamIteratorAgeSeconds * 1000,
      `Council notifications are more than ${thresholds.streamIteratorAgeSeconds} s behind the table stream.`,
      { evaluationPeriods: 5, datapointsToAlarm: 3 },
    );

    const allFunctions: [string, IFunction][] = [
      ['Authorizer', api.authorizerFunction],
      ...[...api.functions].map(([entry, fn]): [string, IFunction] => [entry, fn]),
      ['Dispatch', dispatch],
    ];
    for (const [name, fn] of allFunctions) {
      alarm(
        `Throttles${name.replace(/[^A-Za-z0-9]/g, '')}`,
        fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        0,
        `Function ${name} was throttled: its reserved concurrency is exhausted.`,
      );
    }

    const wafMetric = (rule: string) =>
      new Metric({
        namespace: 'AWS/WAFV2',
        metricName: 'BlockedRequests',
        dimensionsMap: { WebACL: 'ChildProtectionSharingApi', Region: this.region, Rule: rule },
        period: FIVE_MINUTES,
        statistic: 'Sum',
        label: rule,
      });

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(6) });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# Child protection sharing, ${stage.name}, ${regionConfig.region}\nAlarms go to ${regionConfig.alarmEmails.join(', ')}. Runbook: docs/deploy.md`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'API requests', left: [requests, clientErrors, serverErrors], width: 8 }),
      new GraphWidget({
        title: 'API latency (ms)',
        left: ['p50', 'p90', 'p99'].map((statistic) =>
          api.api.metricLatency({ period: FIVE_MINUTES, statistic }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'WAF blocks',
        left: ['RateLimitedRoutesPerCaller', 'RateLimitedRoutesPerSourceAddress', 'ALL'].map(wafMetric),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Tokens refused: identity service unreachable',
        left: [identityUnreachable],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: allFunctions.map(([name, fn]) =>
          fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum', label: name }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Function throttles',
        left: allFunctions.map(([name, fn]) =>
          fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum', label: name }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Function duration p99 (ms)',
        left: allFunctions.map(([name, fn]) =>
          fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99', label: name }),
        ),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Dispatch stream iterator age (ms)', left: [iteratorAge], width: 8 }),
      new GraphWidget({
        title: 'Council queues: messages waiting',
        left: messaging.councilQueues.map((council) =>
          council.metricMessagesVisible({
            period: ONE_MINUTE,
            statistic: 'Maximum',
            label: council.council.code,
          }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Dead letters',
        left: [
          ...messaging.councilQueues.map((council) =>
            council.metricMessagesVisible({
              deadLetters: true,
              period: ONE_MINUTE,
              statistic: 'Maximum',
              label: council.council.code,
            }),
          ),
          messaging.dispatchFailures.metricApproximateNumberOfMessagesVisible({
            period: ONE_MINUTE,
            statistic: 'Maximum',
            label: 'dispatch failures',
          }),
        ],
        width: 8,
      }),
    );
  }
}
