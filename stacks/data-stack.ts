/**
 * Stateful: the region's table key and, in the primary region, the global table with a replica in
 * every other region of the stage. Termination protection on; everything here is retained.
 */
import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AttributeType,
  Billing,
  type CfnGlobalTable,
  StreamViewType,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import { Alias, type CfnKey, type Key } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { tableDefinition } from '../functions/store/table-definition';
import type { StageConfig } from './config';
import { serviceKey } from './constructs/keys';
import { tableKeyAlias, tableName } from './naming';

/** Logical ids of the stateful resources: pinned, because changing one would replace the resource. */
export const DATA_LOGICAL_IDS = { table: 'ServiceTable', tableKey: 'ServiceTableKey' } as const;

export interface DataStackProps extends StackProps {
  stage: StageConfig;
  region: string;
}

export class DataStack extends Stack {
  readonly tableKey: Key;
  /** Only in the primary region: the global table resource that owns every replica. */
  readonly table?: TableV2;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, {
      ...props,
      terminationProtection: true,
      description: `Child protection sharing (${props.stage.name}): table key${
        props.region === props.stage.primaryRegion ? ' and global table' : ''
      } in ${props.region}`,
    });
    const { stage, region } = props;

    this.tableKey = serviceKey(this, 'TableKey', `Encrypts the ${stage.name} table replica in ${region}`);
    (this.tableKey.node.defaultChild as CfnKey).overrideLogicalId(DATA_LOGICAL_IDS.tableKey);
    new Alias(this, 'TableKeyAlias', {
      aliasName: tableKeyAlias(stage.name),
      targetKey: this.tableKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    if (region !== stage.primaryRegion) return;

    const replicaRegions = stage.regions.map((r) => r.region).filter((r) => r !== region);
    const replicaKeyArns = Object.fromEntries(
      replicaRegions.map((replica) => [
        replica,
        this.formatArn({ service: 'kms', region: replica, resource: tableKeyAlias(stage.name) }),
      ]),
    );
    const string = AttributeType.STRING;
    this.table = new TableV2(this, 'Table', {
      tableName: tableName(stage.name),
      partitionKey: { name: tableDefinition.partitionKey, type: string },
      sortKey: { name: tableDefinition.sortKey, type: string },
      globalSecondaryIndexes: tableDefinition.indexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: string },
        sortKey: { name: index.sortKey, type: string },
      })),
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.customerManagedKey(this.tableKey, replicaKeyArns),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 35 },
      deletionProtection: true,
      // Every change is streamed; the dispatch functions' event source filter passes inserts of audit
      // events carrying council messages, and changes to audit items, only.
      // New and old images: what replicating to other regions expects, and it cannot change once the
      // table has more than one replica.
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      // A plan stays only while it can be visible: once the epoch seconds in this attribute have
      // passed, DynamoDB deletes the item (best effort, typically within two days), in every replica.
      // The service sets it on plan items only. The deletions reach the stream as REMOVEs, which the
      // dispatchers' filter passes for audit keys only: one of an audit item would raise
      // AuditTrailChanged.
      timeToLiveAttribute: tableDefinition.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
      replicas: replicaRegions.map((replica) => ({
        region: replica,
        deletionProtection: true,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 35 },
      })),
    });
    (this.table.node.defaultChild as CfnGlobalTable).overrideLogicalId(DATA_LOGICAL_IDS.table);
  }
}
