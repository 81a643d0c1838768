# Owns the Python SDK (momento==1.29.1) topics compatibility scenario against momento-mock.
"""Usage: target/sdk/venv/bin/python compat/python/topics.py HOST PORT

1. subscribe, publish a text and a binary value, receive both with sequence numbers n, n+1 on one
   sequence page;
2. resume: TopicClient.subscribe(cache, topic, resume_at_topic_sequence_number=n,
   resume_at_topic_sequence_page=page) replays both items, then receives a live one (n+2);
   resuming at n+1 replays from there; a second topic's numbers start at 1 on their own;
3. publish and subscribe on a missing cache: TopicPublish.Error / TopicSubscribe.Error with
   NOT_FOUND_ERROR.
"""

from __future__ import annotations

from compat import Reader, cache_client, check, describe, fail, main, topic_client
from momento.errors import MomentoErrorCode
from momento.responses import (
    CreateCache,
    DeleteCache,
    TopicPublish,
    TopicSubscribe,
    TopicSubscriptionItem,
)

CACHE = "py-compat-topics"
TOPIC = "room-1"
OTHER_TOPIC = "room-2"
MISSING_CACHE = "py-compat-no-such-cache"

TEXT = "hello from momento==1.29.1"
BINARY = b"\x00\x01\xfe\xffbinary\x80"
LIVE = "after resume"


def publish(client, topic: str, value) -> None:
    resp = client.publish(CACHE, topic, value)
    check(isinstance(resp, TopicPublish.Success), f"publish({CACHE!r}, {topic!r}, {value!r}) is TopicPublish.Success: {describe(resp)}")


def subscribe(client, topic: str, **resume) -> Reader:
    resp = client.subscribe(CACHE, topic, **resume)
    if not isinstance(resp, TopicSubscribe.Subscription):
        fail(f"subscribe({CACHE!r}, {topic!r}, {resume}) returned {describe(resp)}, expected TopicSubscribe.Subscription")
    print(f"ok: subscribe({CACHE!r}, {topic!r}, {resume}) is TopicSubscribe.Subscription")
    return Reader(resp, f"subscription to {topic!r} {resume}")


def expect(reader: Reader, kind, value, seq: int, page: int | None):
    item = reader.next(f"{kind.__name__}({value!r}) #{seq}")
    if isinstance(item, TopicSubscriptionItem.Error):
        fail(f"{reader.label}: got {describe(item)}, expected {kind.__name__}({value!r}) with sequence number {seq}")
    check(
        isinstance(item, kind) and item.value == value,
        f"{reader.label}: received {kind.__name__} {value!r} (got {item!r})",
    )
    check(item.sequence_number == seq, f"{reader.label}: {value!r} has sequence_number {seq} (got {item.sequence_number})")
    if page is not None:
        check(item.sequence_page == page, f"{reader.label}: {value!r} is on sequence_page {page} (got {item.sequence_page})")
    return item


def scenario(host: str, port: int) -> None:
    with cache_client(host, port) as caches, topic_client(host, port) as topics:
        resp = caches.create_cache(CACHE)
        check(isinstance(resp, CreateCache.Success), f"create_cache({CACHE!r}): {describe(resp)}")

        # 1. Live subscription: the SDK reads the first message (a heartbeat) before returning.
        live = subscribe(topics, TOPIC)
        publish(topics, TOPIC, TEXT)
        publish(topics, TOPIC, BINARY)
        first = live.next("the text item")
        if not isinstance(first, TopicSubscriptionItem.Text):
            fail(f"{live.label}: first item is {describe(first)}, expected TopicSubscriptionItem.Text({TEXT!r})")
        check(first.value == TEXT, f"{live.label}: first item is the text {TEXT!r} (got {first.value!r})")
        check(first.sequence_number >= 1, f"{live.label}: sequence numbers start at 1 or more (got {first.sequence_number})")
        n, page = first.sequence_number, first.sequence_page
        print(f"ok: text item has sequence_number={n}, sequence_page={page}")
        expect(live, TopicSubscriptionItem.Binary, BINARY, n + 1, page)

        # 2. Resume from the first item's sequence number: both are replayed, then live items follow.
        resumed = subscribe(topics, TOPIC, resume_at_topic_sequence_number=n, resume_at_topic_sequence_page=page)
        expect(resumed, TopicSubscriptionItem.Text, TEXT, n, page)
        expect(resumed, TopicSubscriptionItem.Binary, BINARY, n + 1, page)
        publish(topics, TOPIC, LIVE)
        expect(resumed, TopicSubscriptionItem.Text, LIVE, n + 2, page)
        expect(live, TopicSubscriptionItem.Text, LIVE, n + 2, page)

        # Resume in the middle: replay starts at the requested number.
        middle = subscribe(topics, TOPIC, resume_at_topic_sequence_number=n + 1, resume_at_topic_sequence_page=page)
        expect(middle, TopicSubscriptionItem.Binary, BINARY, n + 1, page)
        expect(middle, TopicSubscriptionItem.Text, LIVE, n + 2, page)

        # Sequence numbers are per topic.
        other = subscribe(topics, OTHER_TOPIC)
        publish(topics, OTHER_TOPIC, "other topic")
        item = expect(other, TopicSubscriptionItem.Text, "other topic", 1, None)
        check(item.sequence_number == 1, "a fresh topic's first message has sequence number 1")

        # 3. A missing cache.
        resp = topics.publish(MISSING_CACHE, TOPIC, TEXT)
        check(
            isinstance(resp, TopicPublish.Error) and resp.error_code == MomentoErrorCode.NOT_FOUND_ERROR,
            f"publish({MISSING_CACHE!r}, ...) is TopicPublish.Error with NOT_FOUND_ERROR: {describe(resp)}",
        )
        resp = topics.subscribe(MISSING_CACHE, TOPIC)
        check(
            isinstance(resp, TopicSubscribe.Error) and resp.error_code == MomentoErrorCode.NOT_FOUND_ERROR,
            f"subscribe({MISSING_CACHE!r}, ...) is TopicSubscribe.Error with NOT_FOUND_ERROR: {describe(resp)}",
        )

        resp = caches.delete_cache(CACHE)
        check(isinstance(resp, DeleteCache.Success), f"delete_cache({CACHE!r}): {describe(resp)}")


if __name__ == "__main__":
    main(scenario)
