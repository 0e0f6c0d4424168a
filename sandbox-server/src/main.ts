// Entry point: reads the configuration, wires the real parts together, listens, shuts down cleanly.
import { pino } from 'pino';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { ApiError, errorCatalogue } from './errors.ts';
import { adminNotice } from './identity/admins.ts';
import { createPlatform, listenPreviews } from './platform.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = pino({ level: config.logLevel });
  const platform = await createPlatform(config, logger);
  await platform.driver.checkIsolation(config.allowNoUserns);
  await platform.driver.checkRuntime();
  const app = await buildApp({ config, engine: platform.engine, logger, platform });
  await platform.sessions.start();
  platform.startBackground();
  await app.listen({ host: config.host, port: config.port });
  const closePreviews = await listenPreviews(config, platform, logger);
  console.log(`\n  Dockyard is running: open ${config.publicUrl}/  (Ctrl-C to stop)`);
  console.log(`  Previews of published ports: ${config.previewUrl.replace('://', '://p<port>-<session>.')}`);
  for (const line of await adminNotice(platform.store, config.admins, `${config.publicUrl}/account/`)) {
    console.log(`  ${line}`);
  }
  console.log('');

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    platform.stopLive();
    await closePreviews();
    await platform.sessions.stop();
    await app.close();
    await platform.closeStore();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: Error) => {
  if (err instanceof ConfigError) console.error(err.message);
  else if (err instanceof ApiError) {
    const { title, hint } = errorCatalogue[err.code];
    console.error(`\n  ${err.code}: ${title}\n  ${err.message}\n  What to do: ${hint}\n`);
  } else console.error(err);
  process.exit(1);
});
