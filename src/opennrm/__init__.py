"""OpenNRM: a National Referral Mechanism node for people who were trafficked."""

__version__ = "0.1.0"
