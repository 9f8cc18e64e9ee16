"""One module per `SignatureScheme`: how a delivery is verified and what it means."""
