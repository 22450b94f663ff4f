/**
 * Every measurement `npm run bench` runs, in order. To add one, write a module exporting a Measurement
 * (see bench/lib/types.ts) in this directory and list it here.
 */
import type { Measurement } from '../lib/types';
import { coldStartMeasurement } from './cold-start';
import { costMeasurement } from './cost';
import { lookupMeasurement } from './lookup';
import { notifyMeasurement } from './notify';
import { publishMeasurement } from './publish';
import { scaleMeasurement } from './scale';
import { uploadMeasurement } from './upload';

export const measurements: Measurement[] = [
  // First, while the emulator holds little else: it seeds a million children and closes its services.
  scaleMeasurement,
  lookupMeasurement,
  publishMeasurement,
  notifyMeasurement,
  uploadMeasurement,
  coldStartMeasurement,
  // Last: it reads the durations the others measured.
  costMeasurement,
];
