import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { tableDefinition } from '../../functions/store/table-definition';
import { tableName } from '../naming';

/** This region's replica of the global table, as the functions of a regional stack address it. */
export interface ServiceTable {
  readonly tableName: string;
  readonly tableArn: string;
  readonly indexArns: readonly string[];
  /** The table key of this region (each replica has its own key, in its own region). */
  readonly keyArn: string;
}

/** The replica in the scope's region, found by its contract name (see naming.ts). */
export function regionalTable(scope: IConstruct, stage: string, keyArn: string): ServiceTable {
  const name = tableName(stage);
  const tableArn = Stack.of(scope).formatArn({ service: 'dynamodb', resource: 'table', resourceName: name });
  return {
    tableName: name,
    tableArn,
    indexArns: tableDefinition.indexes.map((index) => `${tableArn}/index/${index.name}`),
    keyArn,
  };
}
