"""The price catalogue: coverage of what the stacks can choose, a source on every
figure, and ``pricing refresh`` against botocore's Stubber with real-shaped PriceList
responses (no emulator serves the Price List API)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from typer.testing import CliRunner

from scalestack import catalog, pricing
from scalestack.cli import app


def figures(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict) and ("usd" in node or "factor" in node or "discount" in node):
        return [(path, node)]
    if isinstance(node, dict):
        return [f for k, v in node.items() for f in figures(v, f"{path}.{k}")]
    return []


def test_every_figure_has_a_source_and_a_date() -> None:
    doc = pricing.data()
    assert doc["as_of"] and doc["hours_per_month"] == 730
    found = figures({k: doc[k] for k in ("regions", "spot", "reserved")})
    assert len(found) > 500
    assert all(f.get("source") for _, f in found), [p for p, f in found if not f.get("source")][:5]
    derived = [f for _, f in found if "derived" in f["source"]]
    # a derived figure says what it was derived from
    assert derived and all(len(f["source"]) > len("derived: ") + 20 for f in derived)


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_catalogue_covers_every_type_the_stacks_can_choose(region: str) -> None:
    prices = pricing.for_region(region)
    assert all(prices.ec2_hour(t) > 0 for t in catalog.ec2_types())
    for cls in catalog.rds_classes():
        for engine in ("postgres", "mysql"):
            assert prices.rds_hour(cls, engine, True) == pytest.approx(2 * prices.rds_hour(cls, engine, False), rel=1e-4)
    for node in catalog.cache_node_types():
        assert prices.cache_hour(node, "valkey") == pytest.approx(0.8 * prices.cache_hour(node, "redis"), rel=1e-4)
    assert set(pricing.data()["spot"]) == {t.family for t in catalog.ec2_types().values()}


def test_size_scaling_within_a_family_and_published_anchors() -> None:
    us = pricing.for_region("us-east-1")
    assert us.ec2_hour("t3.medium") == 0.0416 and us.ec2_hour("t3.micro") == 0.0104
    assert us.ec2_hour("m7g.xlarge") == pytest.approx(2 * us.ec2_hour("m7g.large"))
    assert pricing.reserved_discount("ec2", "standard_3yr_no_upfront") == 0.57


def price_item(instance_type: str, usd: str, **attrs: str) -> str:
    """One PriceList entry exactly as get_products returns it: a JSON string."""
    sku = f"SKU{abs(hash((instance_type, tuple(attrs.items())))) % 10**8:08d}"
    return json.dumps(
        {
            "product": {"productFamily": "Compute Instance", "attributes": {"instanceType": instance_type, "regionCode": "us-east-1", **attrs}, "sku": sku},
            "serviceCode": attrs.get("servicecode", "AmazonEC2"),
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "endRange": "Inf",
                                "description": f"${usd} per On Demand Linux {instance_type} Instance Hour",
                                "appliesTo": [],
                                "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                                "beginRange": "0",
                                "pricePerUnit": {"USD": usd},
                            }
                        },
                        "sku": sku,
                        "effectiveDate": "2026-11-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                }
            },
            "version": "20261101000000",
            "publicationDate": "2026-11-01T00:00:00Z",
        }
    )


def page(items: list[str], token: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": items}
    if token:
        out["NextToken"] = token
    return out


def stubbed_client() -> tuple[Any, Stubber]:
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    stub = Stubber(client)
    ec2_first = {"ServiceCode": "AmazonEC2", "Filters": ANY, "FormatVersion": "aws_v1"}
    stub.add_response("get_products", page([price_item("m7g.large", "0.0900000000"), price_item("x9z.huge", "9.0")], token="tok-2"), ec2_first)
    stub.add_response("get_products", page([price_item("c7g.large", "0.0800000000")]), {**ec2_first, "NextToken": "tok-2"})
    rds_items = [
        price_item("db.r7g.large", "0.2500000000", databaseEngine="PostgreSQL", deploymentOption="Single-AZ"),
        price_item("db.r7g.large", "0.5000000000", databaseEngine="PostgreSQL", deploymentOption="Multi-AZ"),
        price_item("db.r7g.large", "0.9", databaseEngine="PostgreSQL", deploymentOption="Multi-AZ (readable standbys)"),
    ]
    stub.add_response("get_products", page(rds_items), {"ServiceCode": "AmazonRDS", "Filters": ANY, "FormatVersion": "aws_v1"})
    stub.add_response(
        "get_products",
        page([price_item("cache.r7g.large", "0.2300000000", cacheEngine="Redis")]),
        {"ServiceCode": "AmazonElastiCache", "Filters": ANY, "FormatVersion": "aws_v1"},
    )
    return client, stub


def test_refresh_pages_through_price_lists_and_writes_atomically(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(pricing.PRICES_FILE.read_text())
    client, stub = stubbed_client()
    with stub:
        counts = pricing.refresh(path, client, ["us-east-1"], today="2026-12-04")
    stub.assert_no_pending_responses()
    assert counts == {"AmazonEC2/us-east-1": 2, "AmazonRDS/us-east-1": 2, "AmazonElastiCache/us-east-1": 1}
    doc = json.loads(path.read_text())
    us = doc["regions"]["us-east-1"]
    assert us["ec2"]["m7g.large"] == {"usd": 0.09, "source": "AWS Price List Query API get_products (AmazonEC2, regionCode=us-east-1), fetched 2026-12-04"}
    assert us["ec2"]["c7g.large"]["usd"] == 0.08 and "x9z.huge" not in us["ec2"]
    assert us["rds"]["postgres"]["db.r7g.large"]["multi_az"]["usd"] == 0.5  # readable-standby cluster rows ignored
    assert us["elasticache"]["redis"]["cache.r7g.large"]["usd"] == 0.23
    assert us["ec2"]["t3.micro"]["source"].startswith("Infracost")  # untouched figures keep their source
    assert doc["as_of"] == "2026-12-04" and [p.name for p in tmp_path.iterdir()] == ["prices.json"]


def test_refresh_sends_location_and_product_filters() -> None:
    client, stub = stubbed_client()
    seen: list[dict[str, Any]] = []
    client.meta.events.register("provide-client-params.pricing.GetProducts", lambda params, **_: seen.append(params))
    with stub:
        list(pricing.products(client, "AmazonEC2", "us-east-1"))
    fields = {f["Field"]: f["Value"] for f in seen[0]["Filters"]}
    assert fields["regionCode"] == "us-east-1" and fields["operatingSystem"] == "Linux" and fields["tenancy"] == "Shared"


def test_failed_refresh_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(pricing.PRICES_FILE.read_text())
    before = path.read_text()
    client = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    stub = Stubber(client)
    stub.add_client_error("get_products", service_error_code="AccessDeniedException", http_status_code=403)
    with stub, pytest.raises(Exception, match="AccessDenied"):
        pricing.refresh(path, client, ["us-east-1"])
    assert path.read_text() == before and len(list(tmp_path.iterdir())) == 1


def test_cli_refresh_uses_the_configured_client(tmp_path: Path, mocker: Any) -> None:
    path = tmp_path / "prices.json"
    path.write_text(pricing.PRICES_FILE.read_text())
    client, stub = stubbed_client()
    mocker.patch.object(pricing, "pricing_client", return_value=client)
    with stub:
        result = CliRunner().invoke(app, ["pricing", "refresh", "--region", "us-east-1", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert "AmazonEC2/us-east-1: 2 prices" in result.output


def test_pricing_client_retries_adaptively() -> None:
    client = pricing.pricing_client()
    assert client.meta.region_name == "us-east-1"
    assert client.meta.config.retries == {"total_max_attempts": 11, "mode": "adaptive"}
