"""alertpipe's command line and operational shell (local broker, topics, dev runner).

The pipeline itself lives in the sibling packages ``ingest``, ``processors`` and ``schemas``;
this package only wires them to the outside world.
"""
