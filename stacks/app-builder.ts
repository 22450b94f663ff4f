/**
 * Builds the CDK app from stage configs: one Stage per stage (so `cdk deploy '<stage>/*'` deploys
 * it), and in it, per region, a Data, Messaging, Api and Monitoring stack. cdk-nag's AwsSolutions and
 * HIPAA packs check every stage at synthesis. Reads no environment: app.ts does.
 */
import { fileURLToPath } from 'node:url';
import { App, type AppProps, Aspects, Stage, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, WriteNagSuppressionsToCloudFormationAspect } from 'cdk-nag';
import type { RouteDefinition } from '../functions/http/routes';
import { ApiStack } from './api-stack';
import type { AppConfig, StageConfig } from './config';
import { DataStack } from './data-stack';
import { MessagingStack } from './messaging-stack';
import { MonitoringStack } from './monitoring-stack';
import { SERVICE, stackIds } from './naming';
import { apiOriginOf, WEB_VIEW_STACK_ID, WebViewStack } from './web-view-stack';

export interface RegionStacks {
  data: DataStack;
  messaging: MessagingStack;
  api: ApiStack;
  monitoring: MonitoringStack;
}

export interface BuiltStage {
  config: StageConfig;
  stage: Stage;
  regions: Map<string, RegionStacks>;
  /** The clinician web view's hosting, when the stage config has a webView section. */
  webView?: WebViewStack;
}

export interface BuildOptions {
  /** An existing app to build into (app.ts passes the one the CLI runs); otherwise one is created. */
  app?: App;
  appProps?: AppProps;
  /** Defaults to the route table of functions/http/routes.ts. */
  routes?: readonly RouteDefinition[];
  /** The built web view (default web/dist; `npm run build:web`). */
  webAssets?: string;
}

export interface BuiltApp {
  app: App;
  stages: Map<string, BuiltStage>;
}

export function buildStage(
  app: App,
  config: StageConfig,
  routes?: readonly RouteDefinition[],
  webAssets = DEFAULT_WEB_ASSETS,
): BuiltStage {
  const stage = new Stage(app, config.name);
  // Each acknowledgement and its reason also goes into the template (Metadata.cdk_nag), for reviewers.
  // App-level aspects do not reach into a Stage, so it is added per stage.
  Aspects.of(stage).add(new WriteNagSuppressionsToCloudFormationAspect());
  Tags.of(stage).add('service', SERVICE);
  Tags.of(stage).add('stage', config.name);
  const env = (region: string) => ({ account: config.account, region });

  const data = new Map<string, DataStack>();
  for (const { region } of config.regions) {
    data.set(
      region,
      new DataStack(stage, stackIds.data(region), { env: env(region), stage: config, region }),
    );
  }
  const primary = data.get(config.primaryRegion) as DataStack;
  // The replicas' keys (named by alias in the global table) must exist before the table is updated.
  for (const [region, stack] of data) if (region !== config.primaryRegion) primary.addStackDependency(stack);

  const regions = new Map<string, RegionStacks>();
  for (const regionConfig of config.regions) {
    const { region } = regionConfig;
    const regionData = data.get(region) as DataStack;
    const common = { env: env(region), stage: config, regionConfig, tableKey: regionData.tableKey };
    const messaging = new MessagingStack(stage, stackIds.messaging(region), common);
    const api = new ApiStack(stage, stackIds.api(region), { ...common, routes });
    // Both read this region's replica, which the primary region's Data stack creates.
    for (const stack of [messaging, api]) stack.addStackDependency(primary);
    const monitoring = new MonitoringStack(stage, stackIds.monitoring(region), {
      env: env(region),
      stage: config,
      regionConfig,
      api,
      messaging,
    });
    regions.set(region, { data: regionData, messaging, api, monitoring });
  }
  let webView: WebViewStack | undefined;
  if (config.webView) {
    const apiRegion = config.webView.apiRegion ?? config.primaryRegion;
    const api = (regions.get(apiRegion) as RegionStacks).api;
    webView = new WebViewStack(stage, WEB_VIEW_STACK_ID, {
      env: env(apiRegion),
      stage: config,
      apiOrigin: apiOriginOf(config, apiRegion, api.api.restApiId),
      webAssets,
    });
  }
  return { config, stage, regions, webView };
}

const DEFAULT_WEB_ASSETS = fileURLToPath(new URL('../web/dist', import.meta.url));

export function buildApp(config: AppConfig, options: BuildOptions = {}): BuiltApp {
  const app = options.app ?? new App(options.appProps);
  // Registered once on the app: a pack walks the whole app, every stage included.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(), new HIPAASecurityChecks());
  const stages = new Map<string, BuiltStage>();
  for (const stageConfig of config)
    stages.set(stageConfig.name, buildStage(app, stageConfig, options.routes, options.webAssets));
  return { app, stages };
}
