"""Operator jobs the CLI runs against a cluster: replay, explain, redrive, integration keys,
and the topic range readers they share."""
