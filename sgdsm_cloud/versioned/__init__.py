"""Versioned zarr products on object storage that readers open with xarray and fsspec alone.

A version is a set of references (the kerchunk format fsspec's ``ReferenceFileSystem``
reads): every zarr key of the product mapped to its bytes, metadata and small arrays inline,
chunks as byte ranges of immutable pack objects. Writers add packs, then publish a version by
creating its reference file under the next number, which only one writer can do, so readers
see a whole version or none of it, and two writers never both publish on the same parent.

* :mod:`refs`: the references of a version (pure);
* :mod:`chunks`: zarr's own encoding of a region into chunk bytes, and of a template;
* :mod:`packs`: writing chunk bytes as one pack object, copying them between packs;
* :mod:`repository`: versions, history, tags, rollback, expiry, resumable runs;
* :mod:`reader`: opening a version with xarray.
"""
