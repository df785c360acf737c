"""The light path (``/lite/``): server-rendered pages for slow connections (see ``governance.lite.app``)."""
