/*
 * The release every Tally program reports (--version), and the newest
 * receipt and statement formats it writes and reads (docs/receipt.md).
 */
#ifndef TALLY_VERSION_H
#define TALLY_VERSION_H

#define TALLY_VERSION		"0.2.0"
#define TALLY_RECEIPT_FORMAT	2	/* reads 1 and 2 */

#endif
