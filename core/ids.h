/* The shapes of the identifiers that clients and operators choose. */
#ifndef TALLY_IDS_H
#define TALLY_IDS_H

/* ^[A-Za-z0-9_.:-]{1,128}$ (SPEC 3.1) */
int	ids_customer_valid(const char *);
/* ^[a-z0-9][a-z0-9_-]{0,63}$: tenant names appear in paths and leaves. */
int	ids_tenant_valid(const char *);

#endif
