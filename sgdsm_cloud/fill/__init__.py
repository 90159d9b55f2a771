"""Gap filling at scale: a pure block plan, one dask task per output tile, an analysis-ready zarr.

Modules, in the order data flows: ``config`` (FillConfig), ``geometry`` (tiles and haloed
reads, pure), ``layout`` (chunks and shards), ``plan`` (geometry for a given cube and model),
``template`` (output metadata), ``manifest`` (resume), ``block`` (the per-tile array core and
its I/O), ``plugin`` (the model on each worker), ``executor`` (the distributed run) and ``api``
(the lazy notebook API, ``fill_dataset``).
"""
