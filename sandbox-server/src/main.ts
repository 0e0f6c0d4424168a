// Entry point: reads the configuration, wires the real engine into the app, listens, shuts down cleanly.
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { dockerClient, dockerEngine } from './engine/engine.ts';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const engine = dockerEngine(dockerClient(config.dockerSocket));
  const app = await buildApp({ config, engine });
  await app.listen({ host: config.host, port: config.port });
  const shown = config.host === '0.0.0.0' ? 'localhost' : config.host;
  console.log(`\n  Dockyard is running: open http://${shown}:${config.port}/  (Ctrl-C to stop)\n`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: Error) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
