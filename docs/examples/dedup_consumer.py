"""Read alerts.normalized and handle each alert once, dropping repeats by alert_id.

The workers write in Kafka transactions: read with isolation_level="read_committed", or you
also see the outputs of aborted ones. Even then an alert can arrive twice (the workers run
at-least-once, a replay or a redrive published it again, this consumer crashed between
handling and committing); a repeat always has the same alert_id. Usage:
    KAFKA_BOOTSTRAP_SERVERS=kafka:9092 python docs/examples/dedup_consumer.py
"""

import asyncio
import json
import os
from collections import OrderedDict

from aiokafka import AIOKafkaConsumer

REMEMBER = 100_000  # alert_ids kept; keep them in your own store to survive restarts


def handle(alert: dict) -> None:  # page, post to chat, open a ticket...
    print(alert["incident_key"], alert["message_type"], alert["alert_id"], flush=True)


async def main() -> None:
    consumer = AIOKafkaConsumer(
        os.environ.get("ALERTPIPE_TOPIC_NORMALIZED", "alerts.normalized"),
        isolation_level="read_committed",  # only what the workers committed
        bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        group_id="pager",  # one group per downstream system
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    seen: OrderedDict[str, None] = OrderedDict()
    await consumer.start()
    try:
        async for record in consumer:  # one partition's records arrive in order
            alert = json.loads(record.value)
            if alert["alert_id"] not in seen:
                handle(alert)
                seen[alert["alert_id"]] = None
                if len(seen) > REMEMBER:
                    seen.popitem(last=False)
            await consumer.commit()  # after handling: a crash repeats, never skips
    finally:
        await consumer.stop()


if __name__ == "__main__":
    asyncio.run(main())
