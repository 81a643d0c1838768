// Owns the Node.js SDK (@gomomento/sdk 1.118.1) topics compatibility scenario against momento-mock.
//
// Usage: node compat/js/topics.mjs HOST PORT
//
// 1. TopicClient.subscribe resolves (on the mock's first heartbeat); publish a text and a binary
//    value; onItem receives both in order with sequence numbers 1 and 2.
// 2. The SDK's transparent resume: its first stream carries the configuration's 5 s deadline, so
//    the stream ends (onConnectionLost) and the SDK resubscribes with
//    resume_at_topic_sequence_number = last + 1 and the last sequence page; a message published
//    meanwhile arrives exactly once (3), nothing is replayed twice.
// 3. publish and subscribe on a missing cache: TopicPublish.Error / TopicSubscribe.Error with
//    NOT_FOUND_ERROR.
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
  until,
} from './sdk.mjs';

const {CreateCache, DeleteCache, TopicPublish, TopicSubscribe, MomentoErrorCode} = sdk;

const CACHE = 'js-compat-topics';
const TOPIC = 'js-room';
const MISSING_CACHE = 'js-compat-no-such-cache';
const TEXT = 'hello from @gomomento/sdk';
const BINARY = Uint8Array.from([0, 1, 0xfe, 0xff, 0x62, 0x69, 0x6e, 0x80]);
const AFTER_RESTART = 'published while the SDK resubscribes';

const {host, port} = endpointFromArgs();

function isNotFound(resp) {
  return typeof resp.errorCode === 'function' && resp.errorCode() === MomentoErrorCode.NOT_FOUND_ERROR;
}

async function publish(topics, value) {
  const resp = await topics.publish(CACHE, TOPIC, value);
  check(resp instanceof TopicPublish.Success, `publish(${CACHE}, ${TOPIC}, ${typeof value === 'string' ? JSON.stringify(value) : `${value.length} bytes`}): ${describe(resp)}`);
}

function sameBytes(a, b) {
  return a instanceof Uint8Array && a.length === b.length && a.every((x, i) => x === b[i]);
}

main(async () => {
  console.log(`@gomomento/sdk ${sdkVersion} against ${host}:${port}`);
  const caches = cacheClient(host, port);
  const topics = topicClient(host, port);

  const created = await caches.createCache(CACHE);
  check(created instanceof CreateCache.Success, `createCache(${CACHE}): ${describe(created)}`);

  const items = [];
  const errors = [];
  const discontinuities = [];
  let connectionLost = 0;
  let phase2 = false;
  let published3 = null;
  const publish3 = () => {
    if (published3 === null) published3 = publish(topics, AFTER_RESTART);
  };
  const sub = await within(
    topics.subscribe(CACHE, TOPIC, {
      onItem: item => items.push(item),
      onError: e => errors.push(e),
      onDiscontinuity: d => discontinuities.push(d),
      onConnectionLost: () => {
        connectionLost += 1;
        // Publish while the SDK waits to resubscribe (500 ms): the new stream must replay it.
        if (phase2) publish3();
      },
    }),
    'subscribe() to resolve',
  );
  if (!(sub instanceof TopicSubscribe.Subscription)) {
    fail(`subscribe(${CACHE}, ${TOPIC}) returned ${describe(sub)}, expected TopicSubscribe.Subscription`);
  }
  check(true, `subscribe(${CACHE}, ${TOPIC}) resolves to TopicSubscribe.Subscription`);

  // 1. Text and binary, in order, with sequence numbers.
  await publish(topics, TEXT);
  await publish(topics, BINARY);
  await until(() => items.length >= 2 || errors.length > 0, 'two items on the subscription');
  if (errors.length > 0) fail(`onError: ${describe(errors[0])}`);
  check(items[0].value() === TEXT, `first item is the text ${JSON.stringify(TEXT)} (got ${items[0].toString()})`);
  check(items[0].sequenceNumber() === 1, `first item has sequence number 1 (got ${items[0].sequenceNumber()})`);
  check(sameBytes(items[1].value(), BINARY), `second item is the binary value as a Uint8Array (got ${items[1].value()})`);
  check(items[1].sequenceNumber() === 2, `second item has sequence number 2 (got ${items[1].sequenceNumber()})`);

  // 2. The stream ends at the SDK's deadline; the SDK resumes after the last sequence number.
  // (On a very slow machine the restart may already have happened: then #3 is simply live.)
  phase2 = true;
  if (connectionLost > 0) publish3();
  await until(() => connectionLost > 0 || errors.length > 0, "the SDK's stream restart (onConnectionLost)");
  if (errors.length > 0) fail(`onError instead of a transparent restart: ${describe(errors[0])}`);
  check(true, 'the first stream ended and the SDK reported onConnectionLost');
  publish3();
  await published3;
  await until(() => items.length >= 3 || errors.length > 0, 'the message published during the restart');
  if (errors.length > 0) fail(`onError after the restart: ${describe(errors[0])}`);
  check(
    items[2].value() === AFTER_RESTART && items[2].sequenceNumber() === 3,
    `after the restart the SDK receives #3 ${JSON.stringify(AFTER_RESTART)} (got #${items[2].sequenceNumber()} ${items[2].toString()})`,
  );
  await publish(topics, 'last');
  await until(() => items.length >= 4 || errors.length > 0, 'a live message on the resumed stream');
  const seqs = items.map(i => i.sequenceNumber());
  check(JSON.stringify(seqs) === '[1,2,3,4]', `no gaps and no duplicates: sequence numbers ${JSON.stringify(seqs)}`);
  check(discontinuities.length === 0, `no discontinuities on a clean resume (got ${discontinuities.length})`);
  sub.unsubscribe();

  // 3. A missing cache.
  const pub = await topics.publish(MISSING_CACHE, TOPIC, TEXT);
  check(
    pub instanceof TopicPublish.Error && isNotFound(pub),
    `publish on a missing cache is TopicPublish.Error with NOT_FOUND_ERROR: ${describe(pub)}`,
  );
  const missing = await within(topics.subscribe(MISSING_CACHE, TOPIC, {onItem: () => {}}), 'subscribe() on a missing cache');
  check(
    missing instanceof TopicSubscribe.Error && isNotFound(missing),
    `subscribe on a missing cache is TopicSubscribe.Error with NOT_FOUND_ERROR: ${describe(missing)}`,
  );

  const dropped = await caches.deleteCache(CACHE);
  check(dropped instanceof DeleteCache.Success, `deleteCache(${CACHE}): ${describe(dropped)}`);
});
