// Owns the Node.js SDK (@gomomento/sdk 1.118.1) webhook compatibility scenario against momento-mock.
//
// Usage: node compat/js/webhooks.mjs HOST PORT
//
// TopicClient.putWebhook returns a secret; listWebhooks shows the webhook; getWebhookSecret equals
// the secret; putWebhook again (new destination) keeps it; rotateWebhookSecret returns a new one
// that getWebhookSecret then returns; a message published with the SDK reaches the destination (the
// mock's built-in receiver) signed with that secret; deleteWebhook, then listWebhooks is empty;
// deleteWebhook again and webhook calls on a missing cache are NOT_FOUND errors.
import {createHmac} from 'node:crypto';
import {
  sdk,
  sdkVersion,
  check,
  fail,
  describe,
  endpointFromArgs,
  cacheClient,
  topicClient,
  main,
  within,
} from './sdk.mjs';

const {
  CreateCache,
  DeleteCache,
  PutWebhook,
  ListWebhooks,
  GetWebhookSecret,
  RotateWebhookSecret,
  DeleteWebhook,
  TopicPublish,
  MomentoErrorCode,
} = sdk;

const CACHE = 'js-compat-webhooks';
const WEBHOOK = 'js-hook';
const TOPIC = 'js-topic';
const MISSING_CACHE = 'js-compat-no-such-cache';

const {host, port} = endpointFromArgs();
const base = `http://${host}:${port}`;
const sinkA = `${base}/_mock/sink/js-compat-a`;
const sinkB = `${base}/_mock/sink/js-compat-b`;

function isNotFound(resp) {
  return (
    typeof resp.errorCode === 'function' &&
    (resp.errorCode() === MomentoErrorCode.CACHE_NOT_FOUND_ERROR ||
      resp.errorCode() === MomentoErrorCode.NOT_FOUND_ERROR)
  );
}

async function listed(topics) {
  const resp = await topics.listWebhooks(CACHE);
  if (!(resp instanceof ListWebhooks.Success)) {
    fail(`listWebhooks(${CACHE}) returned ${describe(resp)}, expected ListWebhooks.Success`);
  }
  return resp.getWebhooks();
}

async function secretOf(topics) {
  const resp = await topics.getWebhookSecret(CACHE, WEBHOOK);
  if (!(resp instanceof GetWebhookSecret.Success)) {
    fail(`getWebhookSecret(${CACHE}, ${WEBHOOK}) returned ${describe(resp)}, expected GetWebhookSecret.Success`);
  }
  check(
    resp.cacheName() === CACHE && resp.webhookName() === WEBHOOK,
    `getWebhookSecret names the webhook (${resp.cacheName()}/${resp.webhookName()})`,
  );
  return resp.secret();
}

async function put(topics, destination) {
  const resp = await topics.putWebhook(CACHE, WEBHOOK, {destination, topicName: TOPIC});
  if (!(resp instanceof PutWebhook.Success)) {
    fail(`putWebhook(${CACHE}, ${WEBHOOK}, ${destination}) returned ${describe(resp)}, expected PutWebhook.Success`);
  }
  return resp.secretString();
}

main(async () => {
  console.log(`@gomomento/sdk ${sdkVersion} against ${base}`);
  const caches = cacheClient(host, port);
  const topics = topicClient(host, port);

  const created = await caches.createCache(CACHE);
  check(created instanceof CreateCache.Success, `createCache(${CACHE}): ${describe(created)}`);

  check((await listed(topics)).length === 0, 'listWebhooks of a new cache is empty');

  // Create.
  const secret = await put(topics, sinkA);
  check(typeof secret === 'string' && secret.length > 0, `putWebhook returns a secret (${secret.length} chars)`);

  let hooks = await listed(topics);
  check(hooks.length === 1, `listWebhooks shows one webhook (got ${hooks.length})`);
  const [hook] = hooks;
  check(
    hook.id.cacheName === CACHE && hook.id.webhookName === WEBHOOK,
    `listed webhook id is ${CACHE}/${WEBHOOK} (got ${JSON.stringify(hook.id)})`,
  );
  check(hook.topicName === TOPIC, `listed webhook topic is ${TOPIC} (got ${hook.topicName})`);
  check(hook.destination.url() === sinkA, `listed webhook destination is ${sinkA} (got ${hook.destination.url()})`);

  check((await secretOf(topics)) === secret, 'getWebhookSecret equals the secret putWebhook returned');

  // Update: a new destination keeps the secret.
  const secretAfterUpdate = await put(topics, new sdk.PostUrlWebhookDestination(sinkB));
  check(secretAfterUpdate === secret, 'putWebhook again (new destination) returns the same secret');
  hooks = await listed(topics);
  check(
    hooks.length === 1 && hooks[0].destination.url() === sinkB,
    `listWebhooks shows the new destination ${sinkB} (got ${hooks.map(h => h.destination.url())})`,
  );
  check((await secretOf(topics)) === secret, 'getWebhookSecret after the update still equals the secret');

  // Rotate.
  const rotated = await topics.rotateWebhookSecret(CACHE, WEBHOOK);
  if (!(rotated instanceof RotateWebhookSecret.Success)) {
    fail(`rotateWebhookSecret(${CACHE}, ${WEBHOOK}) returned ${describe(rotated)}, expected RotateWebhookSecret.Success`);
  }
  const newSecret = rotated.secret();
  check(newSecret.length > 0 && newSecret !== secret, 'rotateWebhookSecret returns a new secret');
  check((await secretOf(topics)) === newSecret, 'getWebhookSecret then returns the rotated secret');

  // A published message reaches the destination, signed with the current secret.
  await fetch(sinkB, {method: 'DELETE'});
  const published = await topics.publish(CACHE, TOPIC, 'via the JS SDK');
  check(published instanceof TopicPublish.Success, `publish(${CACHE}, ${TOPIC}): ${describe(published)}`);
  const sink = await within(
    fetch(`${sinkB}?min_count=1&timeout_ms=30000`).then(r => r.json()),
    'the delivery at the built-in receiver',
  );
  check(sink.count >= 1, `the destination received the delivery (count ${sink.count})`);
  const request = sink.requests[0];
  const body = JSON.parse(request.body);
  check(
    body.cache === CACHE && body.topic === TOPIC && body.text === 'via the JS SDK',
    `the delivery body names cache, topic and text: ${request.body}`,
  );
  const expected = createHmac('sha3-256', newSecret).update(request.body, 'utf8').digest('hex');
  check(
    request.headers['momento-signature'] === expected,
    'momento-signature is HMAC-SHA3-256 of the body under the rotated secret (node:crypto)',
  );

  // Delete.
  const deleted = await topics.deleteWebhook(CACHE, WEBHOOK);
  check(deleted instanceof DeleteWebhook.Success, `deleteWebhook(${CACHE}, ${WEBHOOK}): ${describe(deleted)}`);
  check((await listed(topics)).length === 0, 'listWebhooks after delete is empty');

  const again = await topics.deleteWebhook(CACHE, WEBHOOK);
  check(
    again instanceof DeleteWebhook.Error && isNotFound(again),
    `deleteWebhook again is DeleteWebhook.Error with NOT_FOUND_ERROR: ${describe(again)}`,
  );
  const noSecret = await topics.getWebhookSecret(CACHE, WEBHOOK);
  check(
    noSecret instanceof GetWebhookSecret.Error && isNotFound(noSecret),
    `getWebhookSecret of a deleted webhook is GetWebhookSecret.Error with NOT_FOUND_ERROR: ${describe(noSecret)}`,
  );

  // A missing cache.
  const putMissing = await topics.putWebhook(MISSING_CACHE, WEBHOOK, {destination: sinkA, topicName: TOPIC});
  check(
    putMissing instanceof PutWebhook.Error && isNotFound(putMissing),
    `putWebhook on a missing cache is PutWebhook.Error with NOT_FOUND_ERROR: ${describe(putMissing)}`,
  );
  const listMissing = await topics.listWebhooks(MISSING_CACHE);
  check(
    listMissing instanceof ListWebhooks.Error && isNotFound(listMissing),
    `listWebhooks on a missing cache is ListWebhooks.Error with NOT_FOUND_ERROR: ${describe(listMissing)}`,
  );

  const dropped = await caches.deleteCache(CACHE);
  check(dropped instanceof DeleteCache.Success, `deleteCache(${CACHE}): ${describe(dropped)}`);
});
