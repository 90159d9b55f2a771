"""Keep a seamless product current: ingest what is new or changed, refill exactly the days
whose window changed, check, and publish one new version (``sgdsm update``)."""
