/* ASN1_TIME (UTCTime / GeneralizedTime, RFC 5280 §4.1.2.5) → Unix seconds. */
#include <time.h>

#include <openssl/asn1.h>

#include "crypto/crypto_int.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * civil-from-days inverse); avoids timegm()'s time_t and locale concerns. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

cachet_rc crypto_asn1_time(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    /* ASN1_TIME_to_tm validates the string form (digits, Z, ranges). */
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return crypto_ossl(FORMAT, "asn1 time: invalid time value");
    int64_t days = days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
                                   (unsigned)tm.tm_mday);
    *out = days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    return CACHET_OK;
}
