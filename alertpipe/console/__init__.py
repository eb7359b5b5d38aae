"""``alertpipe console``: the operators' web console, a process of its own on loopback.

It keeps no state beyond what it derives from Kafka (``view``), and every action calls the
functions the CLI calls (``alertpipe.jobs``)."""
