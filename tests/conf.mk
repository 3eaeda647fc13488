# Config loader tests (owned by the config work).
