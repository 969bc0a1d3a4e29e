"""The price catalogue (``catalog/prices.json``): read accessors for the cost estimator,
and ``refresh`` from the AWS Price List Query API.

One versioned file with an ``as_of`` date and a ``source`` on every figure, so a
reviewer can tell a published price from a derived one."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Optional

from scalestack import catalog

HOURS_PER_MONTH = 730
DEFAULT_REGION = "us-east-1"
PRICES_FILE = Path(__file__).resolve().parent / "catalog" / "prices.json"


class PriceNotFound(KeyError):
    """The catalogue has no figure for this item: the estimator reports it, never guesses."""


@cache
def data() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(resources.files("scalestack.catalog").joinpath("prices.json").read_text())
    return doc


@dataclass(frozen=True)
class RegionPrices:
    """Prices of one region; ``fallback`` says the region is not in the catalogue and
    us-east-1 figures stand in (the plan shows it)."""

    region: str
    priced_as: str

    @property
    def fallback(self) -> bool:
        return self.region != self.priced_as

    def _section(self) -> dict[str, Any]:
        section: dict[str, Any] = data()["regions"][self.priced_as]
        return section

    def ec2_hour(self, instance_type: str) -> float:
        try:
            return float(self._section()["ec2"][instance_type]["usd"])
        except KeyError:
            raise PriceNotFound(f"no EC2 price for {instance_type} in {self.priced_as}") from None

    def rds_hour(self, db_class: str, engine: str, multi_az: bool) -> float:
        eng = rds_engine_key(engine)
        try:
            return float(self._section()["rds"][eng][db_class]["multi_az" if multi_az else "single_az"]["usd"])
        except KeyError:
            raise PriceNotFound(f"no RDS price for {db_class} {eng} in {self.priced_as}") from None

    def cache_hour(self, node_type: str, engine: str) -> float:
        eng = "valkey" if engine == "valkey" else "redis"
        try:
            return float(self._section()["elasticache"][eng][node_type]["usd"])
        except KeyError:
            raise PriceNotFound(f"no ElastiCache price for {node_type} {eng} in {self.priced_as}") from None

    def usage(self, key: str) -> float:
        return float(self._section()["usage"][key]["usd"])


def rds_engine_key(engine: str) -> str:
    """RDS engines priced like MySQL (MariaDB) or like PostgreSQL (everything else we run)."""
    return "mysql" if engine in ("mysql", "mariadb") else "postgres"


def for_region(region: str) -> RegionPrices:
    return RegionPrices(region=region, priced_as=region if region in data()["regions"] else DEFAULT_REGION)


def spot_factor(instance_type: str) -> float:
    """Fraction of the on-demand price a spot instance of this family costs."""
    fam = catalog.family_of(instance_type)
    spot = data()["spot"]
    return float(spot[fam]["factor"]) if fam in spot else 0.35


def reserved_discount(service: str, term: str) -> float:
    """Discount off on-demand for a reservation (``service``: ec2, rds, elasticache)."""
    try:
        return float(data()["reserved"][service][term]["discount"])
    except KeyError:
        raise PriceNotFound(f"no {service} reserved discount for {term}") from None


def as_of() -> str:
    return str(data()["as_of"])


# --- refresh from the AWS Price List Query API -------------------------------------------

LOCATION_FILTERS: dict[str, list[dict[str, str]]] = {
    "AmazonEC2": [
        {"Type": "TERM_MATCH", "Field": "operatingSystem", "Value": "Linux"},
        {"Type": "TERM_MATCH", "Field": "tenancy", "Value": "Shared"},
        {"Type": "TERM_MATCH", "Field": "preInstalledSw", "Value": "NA"},
        {"Type": "TERM_MATCH", "Field": "capacitystatus", "Value": "Used"},
        {"Type": "TERM_MATCH", "Field": "licenseModel", "Value": "No License required"},
    ],
    "AmazonRDS": [{"Type": "ANY_OF", "Field": "databaseEngine", "Value": "PostgreSQL,MySQL"}],
    "AmazonElastiCache": [{"Type": "ANY_OF", "Field": "cacheEngine", "Value": "Redis,Valkey"}],
}


def pricing_client() -> Any:
    """The Price List API lives in us-east-1; adaptive retries ride out its throttling."""
    import boto3
    from botocore.config import Config

    return boto3.client("pricing", region_name="us-east-1", config=Config(retries={"max_attempts": 10, "mode": "adaptive"}))


def products(client: Any, service: str, region: str) -> Iterator[dict[str, Any]]:
    """Every product of ``service`` in ``region`` matching the filters, across pages;
    each ``PriceList`` entry is a JSON string."""
    filters = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}, *LOCATION_FILTERS[service]]
    paginator = client.get_paginator("get_products")
    for page in paginator.paginate(ServiceCode=service, Filters=filters, FormatVersion="aws_v1"):
        for item in page["PriceList"]:
            yield json.loads(item) if isinstance(item, str) else item


def on_demand_hourly(product: dict[str, Any]) -> Optional[float]:
    """The hourly on-demand USD price of a PriceList product (None when it has none)."""
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dim in term.get("priceDimensions", {}).values():
            if dim.get("unit") in ("Hrs", "Hours"):
                usd = float(dim["pricePerUnit"]["USD"])
                if usd > 0:
                    return usd
    return None


def _source(service: str, region: str, today: str) -> str:
    return f"AWS Price List Query API get_products ({service}, regionCode={region}), fetched {today}"


def _apply(doc: dict[str, Any], service: str, region: str, items: Iterable[dict[str, Any]], today: str) -> int:
    """Write the figures of the catalogue's types; returns how many were updated."""
    section = doc["regions"].setdefault(region, {"ec2": {}, "rds": {"postgres": {}, "mysql": {}}, "elasticache": {"redis": {}, "valkey": {}}, "usage": {}})
    src = _source(service, region, today)
    updated = 0
    for product in items:
        attrs = product.get("product", {}).get("attributes", {})
        price = on_demand_hourly(product)
        itype = attrs.get("instanceType", "")
        if price is None:
            continue
        if service == "AmazonEC2" and itype in catalog.ec2_types():
            section["ec2"][itype] = {"usd": price, "source": src}
        elif service == "AmazonRDS" and itype in catalog.rds_classes():
            engine = rds_engine_key(attrs.get("databaseEngine", "").lower())
            mode = "multi_az" if attrs.get("deploymentOption", "").startswith("Multi-AZ") else "single_az"
            if attrs.get("deploymentOption") not in ("Single-AZ", "Multi-AZ"):
                continue
            section["rds"].setdefault(engine, {}).setdefault(itype, {})[mode] = {"usd": price, "source": src}
        elif service == "AmazonElastiCache" and itype in catalog.cache_node_types():
            engine = attrs.get("cacheEngine", "").lower()
            section["elasticache"].setdefault(engine, {})[itype] = {"usd": price, "source": src}
        else:
            continue
        updated += 1
    return updated


def atomic_write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write to a temporary file in the same directory, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def refresh(path: Path, client: Any, regions: Iterable[str], today: Optional[str] = None) -> dict[str, int]:
    """Update EC2, RDS and ElastiCache figures of ``regions`` in place; other figures
    (usage prices, spot, reserved) keep their recorded sources."""
    day = today or date.today().isoformat()
    doc = json.loads(path.read_text())
    counts: dict[str, int] = {}
    for region in regions:
        for service in LOCATION_FILTERS:
            counts[f"{service}/{region}"] = _apply(doc, service, region, products(client, service, region), day)
    doc["as_of"] = day
    atomic_write_json(path, doc)
    data.cache_clear()
    return counts
