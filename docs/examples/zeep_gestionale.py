#!/usr/bin/python3
"""An example gestionale client for ppay-connector, written with Debian's python3-zeep.

It loads the WSDL the connector serves, signs every call with a WS-Security UsernameToken
(PasswordText) and calls each of the 16 operations of the gestionale API once, with a small valid
request, against the demo data that `npm start` loads (ente 01234567897, services TARI and MULTE):

    sudo apt-get install python3-zeep
    /usr/bin/python3 docs/examples/zeep_gestionale.py \\
        http://127.0.0.1:8080/ws/gestionale?wsdl demo-gestionale demo-gestionale-password

It prints one line per operation, `operation outcome faultCode` ("-" when there is no fault), plus
the notice number when the answer carries one: `requestIUV OK - 301000000000000346`,
`getUploadOutcome KO PPAY_UPLOAD_UNKNOWN`. A business error is an answer (outcome KO and a stable
PPAY_* code), not an exception. A SOAP Fault (e.g. "Authentication failed") is printed as
`operation FAULT <faultcode>`, a transport error as `operation ERROR <what>`; either makes the exit
status 1.
"""

import datetime
import sys
import uuid

import zeep
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError
from zeep.wsse.username import UsernameToken
from zeep.xsd import SkipValue

ENTE = "01234567897"  # Comune di Esempio (demo data)
SERVICE = "TARI"  # a service of the Base model
MULTE_SERVICE = "MULTE"  # the service for "Multe con preavviso"
IBAN = "IT92F0306901000100000046001"
CATEGORY = "9/0101101IM/"
RETURN_URL = "http://localhost/gestionale/esito"  # on the demo client's allow-list
BINDING = "{http://ppay-connector.it/gestionale/v1/wsdl}GestionaleBinding"


class Caller:
    """Calls one operation and prints its line; returns the answer when OK, else None."""

    def __init__(self, service):
        self.service = service
        self.failed = False

    def __call__(self, operation, **request):
        try:
            answer = getattr(self.service, operation)(**request)
        except Fault as fault:
            print(operation, "FAULT", fault.code or "-", flush=True)
            print(f"{operation}: {fault.message}", file=sys.stderr)
            self.failed = True
            return None
        except (TransportError, ZeepError, OSError) as error:
            print(operation, "ERROR", type(error).__name__, flush=True)
            print(f"{operation}: {error}", file=sys.stderr)
            self.failed = True
            return None
        fault_code = answer.fault.faultCode if answer.fault is not None else "-"
        # The notice number, for the answers that carry one at the top (requestIUV, activateNotice).
        notice = getattr(answer, "noticeNumber", None)
        print(operation, answer.outcome, fault_code, *([notice] if notice else []), flush=True)
        return answer if answer.outcome == "OK" else None


def main(wsdl_url, username, password):
    client = zeep.Client(wsdl_url, wsse=UsernameToken(username, password))
    # The WSDL carries a default address: talk to the server the WSDL was read from.
    call = Caller(client.create_service(BINDING, wsdl_url.split("?", 1)[0]))

    today = datetime.date.today()
    due_date = today + datetime.timedelta(days=60)
    tag = uuid.uuid4().hex[:12]
    position_id = f"ZEEP-{tag}"
    message_id = f"zeep-upload-{tag}"

    # Base model: a number first, then the position that uses it.
    issued = call("requestIUV", enteFiscalCode=ENTE, serviceCode=SERVICE)
    call("requestIUVBatch", enteFiscalCode=ENTE, serviceCode=SERVICE, count=2)
    option = {"installment": 0, "amountCents": 12000, "dueDate": due_date}
    if issued is not None:
        option["iuv"] = issued.iuv
    option["transfer"] = [{"amountCents": 12000, "iban": IBAN, "category": CATEGORY}]
    position = {
        "positionId": position_id,
        "description": "TARI - example client",
        "debtor": {"type": "F", "fiscalCode": "RSSMRA85T10A562S", "fullName": "Mario Rossi"},
        "option": [option],
    }
    call(
        "uploadDebtPositions",
        enteFiscalCode=ENTE,
        serviceCode=SERVICE,
        messageId=message_id,
        item=[{"action": "INSERT", "position": position}],
    )
    call("getUploadOutcome", enteFiscalCode=ENTE, messageId=message_id)
    stored = call("getDebtPosition", enteFiscalCode=ENTE, positionId=position_id)
    notice_number = stored.position.option[0].noticeNumber if stored is not None else "301000000000000000"

    # Multe con preavviso: reserve two notices, activate one with the fine, give the other back.
    reserved = call("reserveNotices", enteFiscalCode=ENTE, serviceCode=MULTE_SERVICE, count=2)
    notices = [n.noticeNumber for n in reserved.notice] if reserved is not None else []
    notices += ["301000000000000000"] * (2 - len(notices))
    call(
        "activateNotice",
        enteFiscalCode=ENTE,
        noticeNumber=notices[0],
        ticketNumber=f"Z/{tag[:8]}",
        plate="AB123CD",
        amountCents=4200,
        dueDate=due_date,
        # zeep 4.2 treats the optional <reducedAmountCents, reducedUntil> group as required:
        # SkipValue leaves it out (or pass both values for a fine with a reduced amount).
        reducedAmountCents=SkipValue,
        reducedUntil=SkipValue,
    )
    call("releaseNotices", enteFiscalCode=ENTE, noticeNumber=[notices[1]], reason="not used")

    # Asincrona and Sincrona: where to send the citizen.
    call("createPaymentSession", enteFiscalCode=ENTE, positionId=position_id, returnUrl=RETURN_URL)
    call(
        "startPayment",
        enteFiscalCode=ENTE,
        serviceCode=SERVICE,
        cartItem=[{"positionId": position_id}],
        returnUrl=RETURN_URL,
    )

    # Outcomes and reconciliation.
    call("getPaymentStatus", enteFiscalCode=ENTE, positionId=position_id)
    call("getReceipt", enteFiscalCode=ENTE, noticeNumber=notice_number)
    # The printable pagoPA notice of the position (a PDF, base64 in document.content).
    call("getNoticeDocument", enteFiscalCode=ENTE, positionId=position_id, kind="NOTICE")
    call("listPayments", enteFiscalCode=ENTE, fromDate=today, toDate=today)
    call(
        "listReconciliationFlows",
        enteFiscalCode=ENTE,
        fromDate=today - datetime.timedelta(days=30),
        toDate=today,
    )
    call("getReconciliationFlow", enteFiscalCode=ENTE, flowId=f"{today.isoformat()}ABCDITMMXXX-0000000001")
    return 1 if call.failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(f"usage: {sys.argv[0]} <wsdl url> <username> <password>")
    sys.exit(main(*sys.argv[1:4]))
