// Owns loading the pinned @gomomento/sdk (target/sdk/node) and the helpers shared by compat/js/*.mjs.
//
// ESM ignores NODE_PATH, so the SDK (a CommonJS package) is loaded with createRequire from
// $MOMENTO_JS_SDK_DIR (a directory holding node_modules/), else <repo>/target/sdk/node, where
// scripts/install-sdks.sh puts it.
import {createRequire} from 'node:module';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const sdkDir = process.env.MOMENTO_JS_SDK_DIR || path.resolve(here, '../../target/sdk/node');
if (!existsSync(path.join(sdkDir, 'node_modules', '@gomomento', 'sdk'))) {
  console.error(`FAIL: no @gomomento/sdk under ${sdkDir}/node_modules: run scripts/install-sdks.sh`);
  process.exit(2);
}
const require = createRequire(path.join(sdkDir, 'package.json'));
export const sdk = require('@gomomento/sdk');
export const sdkVersion = require('@gomomento/sdk/package.json').version;

// Generous: the tests run on a loaded 2-core machine.
export const WAIT_MS = 60_000;

export function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

export function check(condition, message) {
  if (!condition) fail(message);
  console.log(`ok: ${message}`);
}

/** A response with its error code and message when it is an error. */
export function describe(resp) {
  if (resp === undefined || resp === null) return String(resp);
  if (typeof resp.errorCode === 'function') {
    return `${resp.constructor?.name ?? 'Error'}(errorCode=${resp.errorCode()}, message=${JSON.stringify(resp.message())})`;
  }
  return resp.toString();
}

/** Parses `HOST PORT [rest...]`. */
export function endpointFromArgs(usage = 'HOST PORT') {
  const [host, portText, ...rest] = process.argv.slice(2);
  const port = Number(portText);
  if (!host || !Number.isInteger(port) || port <= 0) {
    console.error(`usage: node ${path.basename(process.argv[1])} ${usage}`);
    process.exit(2);
  }
  return {host, port, rest};
}

/** Momento Local mode: empty token, plaintext gRPC to host:port for every service. */
export function credentials(host, port) {
  return sdk.CredentialProvider.forMomentoLocal({hostname: host, port});
}

export function cacheClient(host, port) {
  return new sdk.CacheClient({
    configuration: sdk.Configurations.Laptop.v1(),
    credentialProvider: credentials(host, port),
    defaultTtlSeconds: 60,
  });
}

export function topicClient(host, port) {
  return new sdk.TopicClient({
    configuration: sdk.TopicConfigurations.Default.latest(),
    credentialProvider: credentials(host, port),
  });
}

/** Resolves with `promise`'s value or fails the script after `ms`. */
export async function within(promise, what, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (e) {
    fail(e.message);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every 20 ms until it holds or the script fails after `ms`. */
export async function until(condition, what, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

/** Runs `body`, then exits (open gRPC channels would otherwise keep node alive). */
export function main(body) {
  body().then(
    () => {
      console.log('PASS');
      process.exit(0);
    },
    e => {
      console.error(e?.stack ?? String(e));
      fail('unexpected exception (see above)');
    },
  );
}
