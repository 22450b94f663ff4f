/**
 * Turns positions in a deployed bundle (`file:///var/task/index.mjs:1:23456`) back into source positions
 * (`functions/store/table.ts:212:11`) with the bundle's source map. The functions do not load their maps
 * at run time (it slows every cold start), so traces in the logs are decoded here, offline.
 */

import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';

const BUNDLE_POSITION = /([^\s()]*\bindex\.mjs):(\d+):(\d+)/g;

/** The trace with every bundle position that the map covers replaced by its source position. */
export function decodeStack(trace: string, map: SourceMapPayload): string {
  const sourceMap = new SourceMap(map);
  return trace.replace(BUNDLE_POSITION, (whole, _file: string, line: string, column: string) => {
    const entry = sourceMap.findEntry(Number(line) - 1, Number(column) - 1) as Partial<{
      generatedLine: number;
      originalSource: string;
      originalLine: number;
      originalColumn: number;
    }>;
    // findEntry answers with the nearest mapping before the position, even on an earlier line.
    if (entry.generatedLine !== Number(line) - 1 || entry.originalSource === undefined) return whole;
    return `${sourcePath(entry.originalSource)}:${(entry.originalLine ?? 0) + 1}:${(entry.originalColumn ?? 0) + 1}`;
  });
}

/** `../../node_modules/x/y.js` or `file:///build/functions/a.ts` as a path from the repository root. */
function sourcePath(source: string): string {
  const plain = source.replace(/^file:\/\//, '');
  const fromRoot = /(?:^|\/)((?:functions|node_modules|local|stacks)\/.*)$/.exec(plain);
  return fromRoot?.[1] ?? path.normalize(plain);
}
