"""Publish a seamless cube: read its coordinates and attributes, write a STAC Collection + Item.

The catalogue is self-contained (relative links), so the directory can be copied to any host.
Credentials never reach it: hrefs lose user info and query strings, readers get only
``{"anon": true}`` (plus a non-AWS endpoint), and the serialised catalogue is checked against
every secret in the storage options and the environment before anything is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sgdsm_cloud.errors import ConfigError, StorageError
from sgdsm_cloud.options import option, url
from sgdsm_cloud.outputs import Folder, OutputKind, claim
from sgdsm_cloud.storage import Location, check_reachable, protocol_of, public_url, redact

DEFAULT_COLLECTION_ID = "sgdsm-amsr2-soil-moisture"
_COLLECTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
COLLECTION_FILE = "collection.json"
_ITEM_FOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*-\d{8}-\d{8}$")  # <collection>-<start>-<end>


def _is_catalogue(folder: Folder) -> bool:
    """A catalogue 'sgdsm publish' wrote: a STAC Collection carrying the cube's zarr asset."""
    document = folder.read_json(COLLECTION_FILE)
    return (
        isinstance(document, dict)
        and document.get("type") == "Collection"
        and "zarr" in (document.get("assets") or {})
    )


STAC_CATALOGUE = OutputKind(
    "STAC catalogue",
    "sgdsm publish",
    _is_catalogue,
    lambda name: name == COLLECTION_FILE or bool(_ITEM_FOLDER.match(name)),
)


@dataclass(frozen=True)
class PublishConfig:
    """What to describe and where the catalogue goes.

    Attributes:
        filled: the seamless cube written by ``sgdsm fill`` (read with its storage options).
        stac_out: directory or URL of the catalogue (``collection.json`` at its root).
        href_public: URL readers open, when it differs from ``filled.url`` (a public bucket, an
            https mirror); defaults to ``filled.url``.
        collection_id: STAC id of the collection; the item id adds the time span.
        license_id: SPDX identifier overriding the cube's ``license`` attribute.
    """

    filled: Location = url("seamless product written by 'sgdsm fill' (path, s3://...)")
    stac_out: Location = url("directory or URL of the catalogue (path, s3://...)")
    href_public: str | None = option(
        None,
        "URL readers open when it differs from --filled, e.g. the public bucket or an https mirror",
        metavar="URL",
    )
    collection_id: str = option(DEFAULT_COLLECTION_ID, "STAC collection id", metavar="ID")
    license_id: str | None = option(
        None,
        "SPDX licence id (default: the product's 'license' attribute)",
        flags=("--license",),
        metavar="SPDX",
    )

    def __post_init__(self) -> None:
        if not _COLLECTION_ID.match(self.collection_id):
            raise ConfigError(
                f"--collection-id {self.collection_id!r}: use letters, digits, '.', '_' and '-'"
            )
        if self.stac_out.url.rstrip("/").lower().endswith(".json"):
            raise ConfigError(
                f"--stac-out {self.stac_out.url}: give the catalogue's folder, not a file name; "
                f"'sgdsm publish' writes {COLLECTION_FILE} and the item inside it"
            )
        if self.href_public and public_url(self.href_public) != self.href_public:
            raise ConfigError(
                "--href-public must not carry credentials, a query or a fragment; give the plain URL readers open"
            )

    @property
    def public_href(self) -> str:
        return self.href_public or public_url(self.filled.url)


def reader_storage_options(href: str, options: dict[str, Any]) -> dict[str, Any]:
    """fsspec options an anonymous reader of ``href`` needs: ``anon`` and a non-AWS endpoint.

    Nothing else is copied from ``options``: a whitelist, so no credential can slip through.
    """
    if protocol_of(href) != "s3":
        return {}
    reader: dict[str, Any] = {"anon": True}
    endpoint = options.get("endpoint_url") or options.get("client_kwargs", {}).get("endpoint_url")
    if endpoint:
        reader["endpoint_url"] = public_url(str(endpoint))
    return reader


def publish(config: PublishConfig) -> str:
    """Describe the cube at ``config.filled`` and write the catalogue; return the collection's URL.

    ``config.stac_out`` must be new, empty or a catalogue 'sgdsm publish' wrote
    (``outputs.claim``); that is checked before anything else.
    """
    from sgdsm_cloud.product import is_versioned, open_seamless
    from sgdsm_cloud.versioned.repository import Repository

    claim(config.stac_out, STAC_CATALOGUE, inputs=(config.filled,), option="--stac-out")
    try:
        import pystac

        from sgdsm_cloud.publish.stac import REFERENCES_FILE, describe
        from sgdsm_cloud.publish.stac_io import FsspecStacIO
    except ImportError as err:
        raise ConfigError(
            f"sgdsm publish needs pystac ({err}); install it with: pip install 'sgdsm_cloud[publish]'"
        ) from None

    check_reachable(config.filled, must_exist=True)
    ds = open_seamless(config.filled.url, config.filled.storage_options)
    href = config.public_href
    if is_versioned(config.filled.url, config.filled.storage_options):
        href = f"{href.rstrip('/')}/{REFERENCES_FILE}"  # readers open the newest version
        ds.attrs["sgdsm_version"] = Repository(config.filled).head()
    collection = describe(
        ds,
        href,
        reader_storage_options(href, config.filled.storage_options),
        collection_id=config.collection_id,
        license_id=config.license_id,
    )
    collection.normalize_hrefs(config.stac_out.url)
    _refuse_secrets(collection, config)
    check_reachable(config.stac_out)
    try:
        collection.save(
            catalog_type=pystac.CatalogType.SELF_CONTAINED,
            stac_io=FsspecStacIO(config.stac_out.storage_options),
        )
    except OSError as err:
        raise StorageError(
            f"--stac-out {config.stac_out.url}: cannot write the catalogue "
            f"({err.strerror or type(err).__name__}); choose a folder you can write to"
        ) from None
    return collection.get_self_href() or config.stac_out.child(COLLECTION_FILE).url


def _refuse_secrets(collection: Any, config: PublishConfig) -> None:
    """Stop before writing if any secret of the options or the environment is in the catalogue."""
    text = json.dumps([collection.to_dict(), *(item.to_dict() for item in collection.get_items())])
    options = {"filled": config.filled.storage_options, "stac_out": config.stac_out.storage_options}
    if redact(text, options) != text:
        raise StorageError(
            f"refusing to write the STAC catalogue to {config.stac_out.url}: it would contain a credential "
            "from the storage options or the environment (check --href-public and the cube's attributes)"
        )
