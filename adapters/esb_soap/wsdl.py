# mypy: disallow-untyped-calls=False
# (zeep ships no type hints; its calls are wrapped here and typed at this edge)
"""Load a WSDL once and bind the one operation a connector calls.

zeep is given a transport that serves only the configured WSDL (and files beside a
WSDL file); any other document it asks for, remote schemas included, is refused, so
reading a WSDL never reaches the network behind the configuration's back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import zeep
from lxml import etree
from zeep.proxy import ServiceProxy
from zeep.transports import Transport
from zeep.wsdl.bindings.soap import Soap12Binding, SoapBinding
from zeep.wsse.username import UsernameToken as ZeepUsernameToken

from esb.sdk import PluginError, xml

from .config import SoapConfig

__all__ = [
    "ZEEP_DATA_ERRORS",
    "BoundOperation",
    "PinnedTransport",
    "RequestMismatch",
    "WsdlInvalid",
    "WsdlUnavailable",
    "bind_operation",
    "find_port",
    "is_url",
    "locate",
    "read_wsdl_file",
    "zeep_settings",
]


class WsdlUnavailable(PluginError):
    """The WSDL URL could not be read now; it may be readable later."""


class WsdlInvalid(PluginError):
    """The WSDL, or the operation, service or port asked of it, is wrong: retrying won't help."""


# What zeep raises for data of the wrong shape (it assumes the types it expects).
ZEEP_DATA_ERRORS = (
    TypeError, ValueError, AttributeError, KeyError, IndexError, zeep.exceptions.Error
)  # fmt: skip


class RequestMismatch(PluginError, ValueError):
    """The mapped body does not fit the operation's input."""


def is_url(location: str) -> bool:
    return urlparse(location).scheme in ("http", "https")


def locate(wsdl: str, config_dir: Path) -> str:
    """A URL as it is; a file path resolved against the configuration folder."""
    return wsdl if is_url(wsdl) else str((config_dir / wsdl).resolve())


class PinnedTransport(Transport):
    """Serves zeep the documents it was given and local files under ``folder``; nothing else."""

    def __init__(self, documents: dict[str, bytes], folder: Path | None) -> None:
        super().__init__()
        self._documents = documents
        self._folder = folder

    def load(self, url: str) -> bytes:
        content = self._documents.get(url)
        if content is None:
            content = self._read_local(url)
        try:
            xml.parse(content)
        except xml.XmlRefused as exc:
            raise WsdlInvalid(f"{url}: {exc}") from exc
        return content

    def _read_local(self, url: str) -> bytes:
        parsed = urlparse(url)
        path = Path(parsed.path if parsed.scheme == "file" else url).resolve()
        if parsed.scheme not in ("", "file") or self._folder is None:
            raise WsdlInvalid(f"refused to fetch {url}: only the configured WSDL is read")
        if not path.is_relative_to(self._folder):
            raise WsdlInvalid(f"refused to read {url}: outside the WSDL's folder")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise WsdlInvalid(f"cannot read {url}: {exc.strerror or exc}") from exc

    def _load_remote_data(self, url: str) -> bytes:
        raise WsdlInvalid(f"refused to fetch {url}: only the configured WSDL is read")


@dataclass(frozen=True)
class BoundOperation:
    """One operation of one port, ready to turn a mapped body into an envelope."""

    client: zeep.Client
    proxy: ServiceProxy
    binding: SoapBinding
    name: str
    address: str

    @property
    def soap12(self) -> bool:
        return isinstance(self.binding, Soap12Binding)

    def envelope(self, body: Any) -> bytes:
        if not isinstance(body, dict):
            raise RequestMismatch(f"the mapped body is a {type(body).__name__}, not an object")
        try:
            element = self.client.create_message(self.proxy, self.name, **body)
        except ZEEP_DATA_ERRORS as exc:
            raise RequestMismatch(f"the mapped body does not fit {self.name}: {exc}") from exc
        return bytes(etree.tostring(element, xml_declaration=True, encoding="utf-8"))

    def http_headers(self) -> dict[str, str]:
        action = self.binding.get(self.name).soapaction or ""
        if self.soap12:
            return {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
        return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}

    def read_reply(self, envelope: etree._Element) -> Any:
        """The operation's output deserialised by zeep (``None`` for a one-way operation)."""
        return self.binding.get(self.name).process_reply(envelope)


def zeep_settings() -> zeep.Settings:
    return zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, xml_huge_tree=False)


def _wsse(config: SoapConfig) -> ZeepUsernameToken | None:
    token = config.wsse
    if token is None:
        return None
    return ZeepUsernameToken(
        token.username, token.password.get_secret_value(), use_digest=token.digest
    )


def find_port(client: zeep.Client, service_name: str | None, port_name: str | None) -> Any:
    """The named SOAP port of the named service (unset: the first of each)."""
    services = client.wsdl.services
    first_service = next(iter(services.values()), None)
    service = services.get(service_name) if service_name else first_service
    if service is None:
        raise WsdlInvalid(f"WSDL has no service {service_name or ''}; it has {list(services)}")
    ports = service.ports
    port = ports.get(port_name) if port_name else next(iter(ports.values()), None)
    if port is None or not isinstance(port.binding, SoapBinding):
        raise WsdlInvalid(f"service {service.name} has no SOAP port {port_name or ''}")
    return port


def bind_operation(location: str, content: bytes, config: SoapConfig) -> BoundOperation:
    """Parse the WSDL (``content``, read from ``location``) and bind ``config.operation``."""
    folder = None if is_url(location) else Path(location).parent
    transport = PinnedTransport({location: content}, folder)
    try:
        client = zeep.Client(
            location, transport=transport, settings=zeep_settings(), wsse=_wsse(config)
        )
    except (*ZEEP_DATA_ERRORS, etree.LxmlError) as exc:
        raise WsdlInvalid(f"cannot read the WSDL {location}: {exc}") from exc
    port = find_port(client, config.service, config.port)
    operations = port.binding.all()
    if config.operation not in operations:
        raise WsdlInvalid(f"WSDL has no operation {config.operation}; it has {sorted(operations)}")
    address = config.address or port.binding_options.get("address")
    if not address:
        raise WsdlInvalid("no address: set `address:` or give the port a soap:address")
    proxy = ServiceProxy(client, port.binding, **port.binding_options)
    return BoundOperation(client, proxy, port.binding, config.operation, address)


def read_wsdl_file(location: str) -> bytes:
    try:
        with open(location, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise WsdlInvalid(f"cannot read the WSDL file {location}: {exc.strerror or exc}") from exc
