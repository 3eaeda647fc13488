# VIP executor tests (owned by the executor work).
