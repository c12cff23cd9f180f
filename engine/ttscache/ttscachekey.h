#pragma once

#include <QByteArray>
#include <QString>

namespace apex {

// Identity of one cached sentence. The digest is SHA-256 over every input that
// changes the audio: tenant, provider, voice, language, output format and the
// normalised text. Each field is length-prefixed before hashing, so no choice of
// field contents can make two different tuples hash the same byte stream.
//
// Normalisation (normalizeText): Unicode NFC, every run of whitespace (including
// NBSP and line breaks) folded to one space, trimmed. Deliberately NOT applied:
// lower-casing and punctuation stripping, because TTS prosody depends on them
// ("Yes." and "yes?" are spoken differently). Language is in the key because
// the embedded engines route on it (the same voice name can read a sentence
// with English or Hindi rules).
struct TtsCacheKey
{
    static constexpr const char *kMulaw8k = "mulaw8k"; // the only format callers hear today

    QString tenantId;
    QByteArray digestHex; // 64 lower-case hex chars; empty: not cacheable
    QByteArray redisKey;  // apex:<tenant>:tts:<digestHex>; empty when the tenant id is not a valid Redis key part

    bool isValid() const { return !digestHex.isEmpty(); }

    static QString normalizeText(const QString &text);
    // Invalid (empty digest) when the normalised text is empty.
    static TtsCacheKey make(const QString &tenantId, const QString &provider, const QString &voice,
                            const QString &language, const QString &text,
                            const QString &format = QString::fromLatin1(kMulaw8k));
};

} // namespace apex
