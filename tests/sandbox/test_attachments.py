"""Uploads, downloads and temporary download links."""

from __future__ import annotations

import base64
import json
from typing import Any

import requests

from factor_desktop.sandbox import SandboxServer

from .conftest import Api, invoice_body, new_customer

XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<note>receipt</note>\n'


def an_invoice(api: Api) -> dict[str, Any]:
    customer = new_customer(api, "Attach Customer")
    return api.create("Invoice", invoice_body(customer["Id"], 75.0))


def upload(api: Api, entity: str, entity_id: str, data: bytes = XML) -> requests.Response:
    metadata = {
        "AttachableRef": [{"EntityRef": {"type": entity, "value": entity_id}}],
        "FileName": "no_detail.xml",
        "ContentType": "text/xml",
    }
    files: dict[str, tuple[str, str | bytes, str]] = {
        "file_metadata_01": ("attachment.json", json.dumps(metadata), "application/json"),
        "file_content_01": ("no_detail.xml", data, "text/xml"),
    }
    return api.session.post(api.url("upload"), files=files, timeout=10)


def test_upload_links_file_and_serves_it(api: Api, qbo: SandboxServer) -> None:
    invoice = an_invoice(api)
    response = upload(api, "Invoice", invoice["Id"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"AttachableResponse", "time"}
    attachable = body["AttachableResponse"][0]["Attachable"]
    assert attachable["FileName"] == "no_detail.xml" and attachable["ContentType"] == "text/xml"
    assert attachable["Size"] == len(XML)
    assert attachable["FileAccessUri"] == f"/v3/company/{qbo.realm_id}/download/{attachable['Id']}"
    assert attachable["AttachableRef"] == [
        {"EntityRef": {"value": invoice["Id"], "type": "Invoice"}, "IncludeOnSend": False}
    ]
    assert attachable["SyncToken"] == "0"
    assert "X-Amz-Expires=900" in attachable["TempDownloadUri"]
    fetched = requests.get(attachable["TempDownloadUri"], timeout=5)
    assert fetched.status_code == 200 and fetched.content == XML
    assert fetched.headers["Content-Type"].startswith("text/xml")
    link = api.get(f"download/{attachable['Id']}")
    assert link.status_code == 200 and link.headers["Content-Type"].startswith("text/plain")
    assert requests.get(link.text, timeout=5).content == XML
    rows = api.query(
        f"select * from Attachable where AttachableRef.EntityRef.value = '{invoice['Id']}'"
    )
    assert rows["Attachable"][0]["Id"] == attachable["Id"]


def test_temp_download_uri_is_fresh_and_expires(api: Api, qbo: SandboxServer) -> None:
    invoice = an_invoice(api)
    attachable = upload(api, "Invoice", invoice["Id"]).json()["AttachableResponse"][0]["Attachable"]
    first = api.read("Attachable", attachable["Id"])["TempDownloadUri"]
    qbo.clock.advance(1)
    second = api.read("Attachable", attachable["Id"])["TempDownloadUri"]
    assert first != second
    qbo.clock.advance(899)
    assert requests.get(second, timeout=5).status_code == 200
    qbo.clock.advance(2)
    expired = requests.get(second, timeout=5)
    assert expired.status_code == 403
    assert b"<Code>AccessDenied</Code>" in expired.content
    tampered = api.read("Attachable", attachable["Id"])["TempDownloadUri"].replace(
        "X-Amz-Signature=", "X-Amz-Signature=0"
    )
    assert requests.get(tampered, timeout=5).status_code == 403


def test_upload_to_missing_entity_is_200_with_fault(api: Api) -> None:
    response = upload(api, "Estimate", "75")
    assert response.status_code == 200
    message = "A business validation error has occurred while processing your request"
    detail = (
        "Business Validation Error: The entity Estimate 75 that you are trying to link does not "
        "exist. Estimate 75"
    )
    error = {"Message": message, "Detail": detail, "code": "6000", "element": ""}
    assert response.json()["AttachableResponse"] == [
        {"Fault": {"Error": [error], "type": "ValidationFault"}}
    ]
    assert api.query("select * from Attachable") == {}


def test_base64_part_and_content_only_upload(api: Api) -> None:
    invoice = an_invoice(api)
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    boundary = "-------------PythonMultipartPost"
    metadata = json.dumps(
        {
            "AttachableRef": [{"EntityRef": {"type": "Invoice", "value": invoice["Id"]}}],
            "FileName": "scan.png",
            "ContentType": "image/png",
        }
    )
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file_metadata_01"\r\n'
        f"Content-Type: application/json\r\n\r\n{metadata}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file_content_01"; '
        f'filename="scan.png"\r\nContent-Type: image/png\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(png).decode()}\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = api.session.post(
        api.url("upload"),
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=10,
    )
    attachable = response.json()["AttachableResponse"][0]["Attachable"]
    assert attachable["Size"] == len(png)
    assert requests.get(attachable["TempDownloadUri"], timeout=5).content == png
    only = api.session.post(
        api.url("upload"),
        files={"file_content_01": ("plain.txt", b"hello", "text/plain")},
        timeout=10,
    )
    lone = only.json()["AttachableResponse"][0]["Attachable"]
    assert lone["FileName"] == "plain.txt" and lone["AttachableRef"] == []
    linked = api.create(
        "Attachable",
        {
            "Id": lone["Id"],
            "SyncToken": "0",
            "FileName": "plain.txt",
            "AttachableRef": [{"EntityRef": {"type": "Invoice", "value": invoice["Id"]}}],
        },
    )
    assert linked["SyncToken"] == "1" and linked["Size"] == 5
    assert linked["AttachableRef"][0]["EntityRef"]["value"] == invoice["Id"]


def test_note_attachable_and_delete(api: Api) -> None:
    invoice = an_invoice(api)
    note = api.create(
        "Attachable",
        {
            "AttachableRef": [{"EntityRef": {"type": "Invoice", "value": invoice["Id"]}}],
            "Note": "Client asked for phase breakdown",
        },
    )
    assert "TempDownloadUri" not in note and note["Note"].startswith("Client")
    attachable = upload(api, "Invoice", invoice["Id"]).json()["AttachableResponse"][0]["Attachable"]
    uri = attachable["TempDownloadUri"]
    stub = api.ok(
        api.post(
            "attachable", {"Id": attachable["Id"], "SyncToken": "0"}, params={"operation": "delete"}
        )
    )["Attachable"]
    assert stub == {"domain": "QBO", "status": "Deleted", "Id": attachable["Id"]}
    assert requests.get(uri, timeout=5).status_code == 404
    missing = api.post(
        "attachable",
        {"Note": "x", "AttachableRef": [{"EntityRef": {"type": "Invoice", "value": "999999"}}]},
    )
    assert api.fault(missing)["code"] == "6000"
