#include "ttscache/ttscachekey.h"

#include "store/rediskeys.h"

#include <QCryptographicHash>
#include <QtEndian>

namespace apex {

namespace {

void addField(QCryptographicHash &hash, const QString &field)
{
    const QByteArray utf8 = field.toUtf8();
    const quint32 length = qToBigEndian(quint32(utf8.size()));
    hash.addData(QByteArrayView(reinterpret_cast<const char *>(&length), sizeof length));
    hash.addData(utf8);
}

} // namespace

QString TtsCacheKey::normalizeText(const QString &text)
{
    const QString nfc = text.normalized(QString::NormalizationForm_C);
    QString out;
    out.reserve(nfc.size());
    bool pendingSpace = false;
    for (const QChar c : nfc) {
        if (c.isSpace()) {
            pendingSpace = !out.isEmpty();
            continue;
        }
        if (pendingSpace) {
            out.append(QLatin1Char(' '));
            pendingSpace = false;
        }
        out.append(c);
    }
    return out;
}

TtsCacheKey TtsCacheKey::make(const QString &tenantId, const QString &provider, const QString &voice,
                              const QString &language, const QString &text, const QString &format)
{
    TtsCacheKey key;
    key.tenantId = tenantId;
    const QString normalized = normalizeText(text);
    if (normalized.isEmpty())
        return key;
    QCryptographicHash hash(QCryptographicHash::Sha256);
    // A version tag lets a future change of the scheme start from a clean slate
    // instead of serving audio keyed by the old rules.
    addField(hash, QStringLiteral("apex-tts-v1"));
    addField(hash, tenantId);
    addField(hash, provider);
    addField(hash, voice);
    addField(hash, language);
    addField(hash, format);
    addField(hash, normalized);
    key.digestHex = hash.result().toHex();
    key.redisKey = RedisKeys::key(tenantId, {QByteArrayView("tts"), QByteArrayView(key.digestHex)});
    return key;
}

} // namespace apex
