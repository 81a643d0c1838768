// Owns the Node.js SDK webhook command line used by the Terraform round-trip test (tests/tests/sdk_js.rs).
//
// Usage:
//   node compat/js/webhook-cli.mjs HOST PORT create CACHE NAME TOPIC URL
//       putWebhook(CACHE, NAME, {topicName: TOPIC, destination: URL}); prints {"secret": "..."}
//   node compat/js/webhook-cli.mjs HOST PORT show CACHE NAME
//       prints {"webhooks": [{"cache","name","topic","url"}...] from listWebhooks(CACHE),
//               "secret": getWebhookSecret(CACHE, NAME)}
// Output is one line of JSON on stdout; any SDK error exits 1 with the error on stderr.
import {sdk, fail, describe, endpointFromArgs, topicClient} from './sdk.mjs';

const {PutWebhook, ListWebhooks, GetWebhookSecret} = sdk;
const usage = 'HOST PORT (create CACHE NAME TOPIC URL | show CACHE NAME)';
const {host, port, rest} = endpointFromArgs(usage);
const [command, ...args] = rest;

function usageError() {
  console.error(`usage: node webhook-cli.mjs ${usage}`);
  process.exit(2);
}

async function create(topics, [cache, name, topic, url]) {
  const resp = await topics.putWebhook(cache, name, {topicName: topic, destination: url});
  if (!(resp instanceof PutWebhook.Success)) fail(`putWebhook(${cache}, ${name}): ${describe(resp)}`);
  return {secret: resp.secretString()};
}

async function show(topics, [cache, name]) {
  const list = await topics.listWebhooks(cache);
  if (!(list instanceof ListWebhooks.Success)) fail(`listWebhooks(${cache}): ${describe(list)}`);
  const secret = await topics.getWebhookSecret(cache, name);
  if (!(secret instanceof GetWebhookSecret.Success)) fail(`getWebhookSecret(${cache}, ${name}): ${describe(secret)}`);
  return {
    webhooks: list.getWebhooks().map(w => ({
      cache: w.id.cacheName,
      name: w.id.webhookName,
      topic: w.topicName,
      url: w.destination.url(),
    })),
    secret: secret.secret(),
  };
}

const commands = {create: [create, 4], show: [show, 2]};
const entry = commands[command];
if (!entry || args.length !== entry[1]) usageError();

entry[0](topicClient(host, port), args).then(
  out => {
    process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
  },
  e => fail(e?.stack ?? String(e)),
);
