"""The local Apache Kafka (KRaft) this checkout runs from Maven-resolved jars: for `make run`,
the tests and the benchmarks when no cluster is configured. Nothing deployed imports it."""
