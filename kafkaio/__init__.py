"""What the ingress, the worker and the CLI share to talk to Kafka: settings read from the
environment, topic specs and the admin client, the compacted-topic follower, the producer the
CLI writes with. It imports only ``schemas``, never ``ingest``, ``processors`` or ``alertpipe``."""
