"""HubSpot's official Python client against a running emulator.

Proof that the emulator's shapes are real: with client-side validation on,
the official client's generated models refuse responses that lack required
fields or carry values outside their enums. Performs a contacts batch upsert,
a batch read, a properties list, and an OAuth refresh; account details are
not in the official client, so that call is skipped with a note. The client
calls /crm/v3 paths only, so the 2026-09 admin-rule errors are fetched over
plain HTTP and handed to the client's own deserializer.

Usage: python official_client_check.py BASE_URL [TOKEN]
Exits non-zero on the first failure.
"""

import json
import sys
import urllib.error
import urllib.request

from hubspot import HubSpot
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
)

# Must match the --oauth-client flag official_client_check.sh passes.
OAUTH = ("ci-client", "ci-secret", "ci-refresh")
# Must match the --required-on-create flag official_client_check.sh passes.
REQUIRED = "lastname"


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail else ""))
    if not ok:
        sys.exit(1)


class Raw:
    """The one attribute ApiClient.deserialize reads from a response."""

    def __init__(self, data):
        self.data = data


def post_json(url, token, body):
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def check_admin_rules(client, base, token):
    """2026-09 admin-rule violations, as 207 entries (multi-status) and as a
    whole-batch 400, must satisfy the official models."""
    api = client.crm.contacts.batch_api.api_client
    upsert = f"{base}/crm/objects/2026-09/contacts/batch/upsert"
    inputs = [
        {"id": "rules-ok@example.com", "idProperty": "email", "objectWriteTraceId": "r1",
         "properties": {REQUIRED: "Ok"}},
        {"id": "rules-bad@example.com", "idProperty": "email", "objectWriteTraceId": "r2",
         "properties": {"firstname": "Bad"}},
    ]
    status, body = post_json(upsert, token, {"inputs": inputs})
    model = api.deserialize(Raw(body), "BatchResponseSimplePublicUpsertObjectWithErrors")
    err = model.errors[0] if model.errors else None
    check(
        "207 with admin-rule violations deserialises",
        status == 207 and len(model.results) == 1 and err is not None
        and err.category == "VALIDATION_ERROR"
        and err.context["propertyName"] == [REQUIRED]
        and err.errors[0].code == "MISSING_REQUIRED_PROPERTY",
        f"status {status}",
    )
    status, body = post_json(
        f"{base}/crm/objects/2026-09/contacts", token,
        {"properties": {"email": "rules-single@example.com"}},
    )
    whole = api.deserialize(Raw(body), "Error")
    check(
        "400 whole-request admin-rule error deserialises",
        status == 400 and whole.category == "VALIDATION_ERROR"
        and whole.errors[0].code == "MISSING_REQUIRED_PROPERTY",
        f"status {status}",
    )


def main():
    base = sys.argv[1].rstrip("/")
    token = sys.argv[2] if len(sys.argv) > 2 else "pat-local-demo"
    client = HubSpot(access_token=token, host=base, client_side_validation=True)
    check(
        "client-side validation is on",
        client.crm.contacts.batch_api.api_client.configuration.client_side_validation is True,
    )

    inputs = [
        SimplePublicObjectBatchInputUpsert(
            id=f"Official{i}@Example.com",
            id_property="email",
            object_write_trace_id=str(i),
            properties={"firstname": f"Off{i}", "lifecyclestage": "lead"},
        )
        for i in range(3)
    ]
    up = client.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)
    )
    check("batch upsert deserialises", up.status == "COMPLETE" and len(up.results) == 3)
    check("upsert results carry new=true", all(r.new is True for r in up.results))
    check(
        "emails are stored lower-cased",
        sorted(r.properties["email"] for r in up.results)
        == [f"official{i}@example.com" for i in range(3)],
    )

    again = client.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs[:1])
    )
    check("second upsert updates (new=false)", again.results[0].new is False)

    read = client.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            id_property="email",
            inputs=[SimplePublicObjectId(id="official1@example.com")],
            properties=["email", "firstname", "lifecyclestage"],
            properties_with_history=[],
        )
    )
    check("batch read deserialises", len(read.results) == 1)
    check("batch read returns the values", read.results[0].properties["firstname"] == "Off1")

    partial = client.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            id_property="email",
            inputs=[SimplePublicObjectId(id="official2@example.com"),
                    SimplePublicObjectId(id="nobody@example.com")],
            properties=["email"],
            properties_with_history=[],
        )
    )
    check(
        "207 multi-status with per-input errors deserialises",
        len(partial.results) == 1 and partial.num_errors == 1
        and partial.errors[0].category == "OBJECT_NOT_FOUND",
    )

    # Upserts by a unique property other than email answer 207 per input:
    # the error entries must satisfy the official StandardError model.
    from hubspot.crm import companies

    co = client.crm.companies.batch_api.upsert(
        companies.BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                companies.SimplePublicObjectBatchInputUpsert(
                    id="ext-1", id_property="external_id", object_write_trace_id="a",
                    properties={"name": "Acme"},
                ),
                companies.SimplePublicObjectBatchInputUpsert(
                    id="ext-2", id_property="external_id", object_write_trace_id="b",
                    properties={"industry": "NOT_AN_OPTION"},
                ),
            ]
        )
    )
    check(
        "207 upsert with per-input errors deserialises",
        len(co.results) == 1 and co.num_errors == 1
        and co.errors[0].context["objectWriteTraceId"] == ["b"],
    )

    props = client.crm.properties.core_api.get_all(object_type="contacts")
    names = {p.name for p in props.results}
    check("properties list deserialises", {"email", "lifecyclestage", "hs_object_id"} <= names,
          f"{len(names)} properties")
    stages = next(p for p in props.results if p.name == "lifecyclestage")
    check("lifecyclestage options deserialise", len(stages.options) >= 8)

    print("skip account details: the official Python client has no account-info API")

    check_admin_rules(client, base, token)

    oauth = HubSpot(host=base, client_side_validation=True)
    tokens = oauth.oauth.tokens_api.create(
        grant_type="refresh_token",
        client_id=OAUTH[0],
        client_secret=OAUTH[1],
        refresh_token=OAUTH[2],
    )
    check("oauth refresh deserialises", bool(tokens.access_token) and tokens.expires_in > 0)
    minted = HubSpot(access_token=tokens.access_token, host=base, client_side_validation=True)
    page = minted.crm.contacts.basic_api.get_page(limit=2)
    check("minted access token works (list page)", len(page.results) == 2 and page.paging is not None)

    print("official client check passed")


if __name__ == "__main__":
    main()
