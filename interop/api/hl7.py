"""One HL7 v2 message over HTTP, for clients that cannot hold an MLLP connection open."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.parsers import BaseParser
from rest_framework.views import APIView

from interop import services
from interop.auth import HasScope, client_of
from interop.models import ApiClient, Hl7Message

# The ACK says what happened; the status code says it too, for clients that only look there.
STATUS_FOR_ACK = {"AA": 200, "AE": 422, "AR": 400}


class Hl7Parser(BaseParser):
    """The request body as it came: one ER7-encoded message."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream else b""


class Hl7MessageView(APIView):
    """Receive one ADT message and answer with its ACK (or NACK naming the reason)."""

    permission_classes = [permissions.IsAuthenticated, HasScope]
    parser_classes = [Hl7Parser]
    required_scope = ApiClient.Scope.HL7

    @extend_schema(
        # Documented as text/plain; application/hl7-v2 and x-application/hl7-v2+er7 are read alike.
        request={"text/plain": OpenApiTypes.STR},
        responses={
            (code, "application/hl7-v2"): OpenApiResponse(OpenApiTypes.STR, description=meaning)
            for code, meaning in (
                (200, "AA: applied, held for later, or nothing to apply"),
                (400, "AR: the message could not be read"),
                (422, "AE: the message could not be applied; kept as a dead letter"),
            )
        },
        examples=[
            OpenApiExample("A01", value="MSH|^~\\&|PAS|RTA|HOMEFIRST|HF|...", request_only=True)
        ],
    )
    def post(self, request):
        client = client_of(request)
        if client is None:
            if not request.user.is_authenticated:
                raise NotAuthenticated()
            raise PermissionDenied("HL7 messages come from integration clients with a token.")
        receipt = services.hl7_message_receive(
            raw=request.data or b"", via=Hl7Message.Via.HTTP, client=client
        )
        return HttpResponse(
            receipt.ack, status=STATUS_FOR_ACK[receipt.code], content_type="application/hl7-v2"
        )
