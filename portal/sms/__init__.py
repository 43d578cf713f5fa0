"""Sending texts: the SmsClient protocol and its backends."""
