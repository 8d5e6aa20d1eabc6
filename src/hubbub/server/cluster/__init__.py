"""The cluster backplane: nodes sharing one network through PostgreSQL and
Redis (docs/cluster.md). Installed by ``features.install_features`` only
when ``[cluster] node`` is set."""
