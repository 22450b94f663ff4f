/**
 * Every measurement `npm run bench` runs, in order. To add one, write a module exporting a Measurement
 * (see bench/lib/types.ts) in this directory and list it here.
 */
import type { Measurement } from '../lib/types';
import { coldStartMeasurement } from './cold-start';
import { connectorMeasurement } from './connector';
import { costMeasurement } from './cost';
import { fhirMeasurement } from './fhir';
import { freshTokenMeasurement } from './fresh-token';
import { lookupMeasurement } from './lookup';
import { mergedMeasurement } from './merged';
import { notifyMeasurement } from './notify';
import { publishMeasurement } from './publish';
import { scaleMeasurement } from './scale';
import { uploadMeasurement } from './upload';
import { webViewMeasurement } from './web-view';

export const measurements: Measurement[] = [
  // First: DynamoDB Local's transactions slow down as other work piles up in it, and the quick mode
  // runs every measurement on the same emulators (the full mode restarts them for each).
  uploadMeasurement,
  scaleMeasurement,
  lookupMeasurement,
  fhirMeasurement,
  freshTokenMeasurement,
  mergedMeasurement,
  publishMeasurement,
  notifyMeasurement,
  connectorMeasurement,
  coldStartMeasurement,
  webViewMeasurement,
  // Last: it reads the durations the others measured.
  costMeasurement,
];
