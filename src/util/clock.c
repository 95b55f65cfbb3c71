/* Clocks and RFC 3339 times (no libc timezone state involved). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cachet/clock.h"

static int64_t system_now(const cachet_clock *self)
{
    (void)self;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

static int64_t fixed_now(const cachet_clock *self) { return self->fixed; }

static const cachet_clock system_clock = {system_now, 0};

const cachet_clock *cachet_clock_system(void) { return &system_clock; }

cachet_clock cachet_clock_fixed(int64_t t) { return (cachet_clock){fixed_now, t}; }

int64_t cachet_clock_now(const cachet_clock *c)
{
    if (!c)
        c = &system_clock;
    return c->now(c);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * well-known civil-date arithmetic). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

cachet_rc cachet_time_parse_rfc3339(const char *s, int64_t *out)
{
    const cachet_rc bad = CACHET_RC(CACHET_SUB_UTIL, CACHET_E_FORMAT);
    unsigned y, mo, d, h, mi, se;
    if (!s || strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &se))
        return cachet_err(bad, "'%s' is not an RFC 3339 time (YYYY-MM-DDThh:mm:ssZ)", s ? s : "");
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60)
        return cachet_err(bad, "'%s' has an out-of-range field", s);
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return cachet_err(bad, "'%s': empty fraction", s);
        while (isdigit((unsigned char)*p))
            p++;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        unsigned oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return cachet_err(bad, "'%s': bad UTC offset", s);
        offset = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return cachet_err(bad, "'%s': missing time zone (use Z)", s);
    }
    if (*p)
        return cachet_err(bad, "'%s': trailing characters", s);
    if (se == 60)
        se = 59; /* leap second: clamp */
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    return CACHET_OK;
}

void cachet_time_format_rfc3339(int64_t t, char buf[21])
{
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        memcpy(buf, "0000-00-00T00:00:00Z", 21);
        return;
    }
    /* Each field is range-limited above, so the digits always fit. */
    const unsigned f[6] = {(unsigned)y, m, d, (unsigned)(rem / 3600), (unsigned)(rem % 3600 / 60),
                           (unsigned)(rem % 60)};
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    int field = 0, width[6] = {4, 2, 2, 2, 2, 2}, pos = 0;
    for (int i = 0; i < 20; i++) {
        if (shape[i] != 'd') {
            buf[i] = shape[i];
            continue;
        }
        unsigned div = 1;
        for (int k = width[field] - pos - 1; k > 0; k--)
            div *= 10;
        buf[i] = (char)('0' + f[field] / div % 10);
        if (++pos == width[field]) {
            pos = 0;
            field++;
        }
    }
    buf[20] = '\0';
}
