"""File drop against hostile folders: links and odd names out, DTDs refused, memory bounded.

Whatever lands in the drop folder, the gateway reads and moves nothing outside its
three folders. Runs embedded: the guarantees are about the folder, not the database.
"""

from __future__ import annotations

import asyncio
import os
import resource
from pathlib import Path

import orjson
import pytest

from esb.settings import demo_config_dir
from tests.support.drops import drop, eventually, ledger, message_count, names, shipment_csv
from tests.support.gateway import GatewayUnderTest, write_config
from tests.support.soap_server import billion_laughs_dtd
from tests.support.target import TargetServer

pytestmark = pytest.mark.parametrize("mode", ["embedded"], indirect=True)


@pytest.fixture
async def demo(make_gateway, target: TargetServer, tmp_path: Path) -> GatewayUnderTest:
    env = {"ERP_URL": target.url, "MES_URL": target.url, "WMS_URL": target.url,
           "DROP_DIR": str(tmp_path / "drop")}  # fmt: skip
    gut: GatewayUnderTest = await make_gateway(
        demo_config_dir(), env=env, config_watch=False, start=False
    )
    return gut  # started by the test, once it has prepared the folder


def shipments(tmp_path: Path) -> Path:
    return tmp_path / "drop" / "wms" / "shipments"


def outside_world(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    outside = tmp_path / "outside"
    outside.mkdir()
    files = {"secret.csv": shipment_csv("SECRET", 2), "other.csv": shipment_csv("OTHER", 3)}
    for name, content in files.items():
        (outside / name).write_bytes(content)
    return outside, files


def untouched(outside: Path, files: dict[str, bytes]) -> bool:
    return {p.name: p.read_bytes() for p in outside.iterdir()} == files


async def test_links_and_odd_names_never_reach_outside_the_folder(
    demo: GatewayUnderTest, tmp_path: Path
) -> None:
    outside, files = outside_world(tmp_path)
    folder = shipments(tmp_path)
    folder.mkdir(parents=True)
    (folder / "link.csv").symlink_to(outside / "secret.csv")
    (folder / "relative.csv").symlink_to(Path("..") / ".." / ".." / ".." / "outside" / "secret.csv")
    (folder / "folder-link.csv").symlink_to(outside, target_is_directory=True)
    os.link(outside / "other.csv", folder / "hard.csv")
    odd = "line\nbreak.csv"
    drop(folder, odd, shipment_csv("ODD", 1))
    drop(folder, "a..b.csv", shipment_csv("DOTS", 1))
    await demo.start()

    errors, archive = folder / "error", folder / "archive"
    await eventually(lambda: len(names(errors)) == 10, what="five strays set aside")
    await eventually(lambda: names(archive) == ["a..b.csv"], what="the plain file archived")
    for link in ("link.csv", "relative.csv", "folder-link.csv"):
        assert (errors / link).is_symlink()  # moved as the link itself
    assert (errors / "hard.csv").stat().st_ino == (outside / "other.csv").stat().st_ino
    reasons = {p.name: orjson.loads(p.read_bytes())["problem"] for p in errors.glob("*.json")}
    assert reasons["link.csv.report.json"] == "a symbolic link is never followed"
    assert "hard link" in reasons["hard.csv.report.json"]
    [unsafe] = [n for n in reasons if n.startswith("unsafe-name-")]
    assert "control characters" in reasons[unsafe]
    assert untouched(outside, files)
    assert await message_count(demo) == 1  # a..b.csv's one row, nothing from outside
    assert [row.name for row in await ledger(demo)] == ["a..b.csv"]


async def test_an_archive_folder_that_is_a_link_is_never_written_through(
    demo: GatewayUnderTest, tmp_path: Path
) -> None:
    outside, files = outside_world(tmp_path)
    folder = shipments(tmp_path)
    folder.mkdir(parents=True)
    (folder / "archive").symlink_to(outside, target_is_directory=True)
    drop(folder, "today.csv", shipment_csv("TODAY", 2))
    await demo.start()
    await asyncio.sleep(2.5)  # two settle periods: it would have been taken by now
    assert (folder / "today.csv").exists()
    assert untouched(outside, files)
    assert await message_count(demo) == 0

    (folder / "archive").unlink()  # the operator repairs the folder: the file goes through
    await eventually(lambda: names(folder / "archive") == ["today.csv"], timeout=15, what="archive")
    assert await message_count(demo) == 2
    assert untouched(outside, files)


XML_INTERFACE = """
interfaces:
  shipment:
    source: wms
    message_type: shipment
    key: order_no
    inbound:
      - {{kind: file-drop, folder: "{folder}", pattern: "*.xml", format: xml,
         xml: {{record: Shipment}}, settle: 0.2s, watch: polling, poll_interval: 0.3s}}
    targets:
      erp:
        connector: {{kind: rest, url: "{url}/api/order-status"}}
"""


def shipment_xml(body: str, prolog: str = "") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<Shipments>{body}</Shipments>'.encode()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def test_xml_files_with_a_dtd_are_refused_with_bounded_memory(
    make_gateway, target: TargetServer, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    config = XML_INTERFACE.format(folder=folder, url=target.url)
    gut: GatewayUnderTest = await make_gateway(
        write_config(tmp_path / "cfg", config), config_watch=False
    )
    before = peak_rss_mib()
    good = "".join(f"<Shipment><order_no>SO-{n}</order_no><status>S</status></Shipment>"
                   for n in (1, 2))  # fmt: skip
    drop(folder, "good.xml", shipment_xml(good))
    xxe = '<!DOCTYPE Shipments [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    drop(folder, "xxe.xml", shipment_xml("<Shipment><order_no>&x;</order_no></Shipment>", xxe))
    bomb = f"<!DOCTYPE Shipments [{billion_laughs_dtd()}]>"
    drop(folder, "bomb.xml", shipment_xml("<Shipment><order_no>&lol9;</order_no></Shipment>", bomb))

    await eventually(lambda: names(folder / "archive") == ["good.xml"], what="good file")
    await eventually(lambda: len(names(folder / "error")) == 4, what="two refused files")
    for name in ("xxe.xml", "bomb.xml"):
        report = orjson.loads((folder / "error" / f"{name}.report.json").read_bytes())
        assert "DTD" in report["problem"]
    assert peak_rss_mib() - before < 50  # a billion "lol"s would be gigabytes
    await target.wait_received(2)
    assert sorted(b["order_no"] for b in target.bodies()) == ["SO-1", "SO-2"]
    assert all(b"root:" not in r.body for r in target.received)
    statuses = {row.name: row.status for row in await ledger(gut)}
    assert statuses == {"good.xml": "done", "xxe.xml": "failed", "bomb.xml": "failed"}
