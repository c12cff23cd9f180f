#include "tts/azure/azuresynthesizer.h"

#include <QHash>

#include "observability/logging.h"
#include "tts/azure/azureaudiodecoder.h"
#include "tts/azure/azuresynthesisjob.h"
#include "tts/azure/ssml.h"

#include <QCoreApplication>
#include "httpclient/httpclientpool.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPointer>
#include <QRegularExpression>
#include <QThread>

namespace apex {

namespace {

// Azure voice names: locale (language, optional script, region, optional
// dialect) then a name ending in "Neural", optionally "Name:VariantNeural"
// (the HD voices). Strict on purpose: the name goes into an attribute and is
// the only caller-influenced thing besides the text.
const QRegularExpression &voicePattern()
{
    static const QRegularExpression re(QRegularExpression::anchoredPattern(QStringLiteral(
        "([a-z]{2,3}(?:-[A-Z][a-z]{3})?-[A-Z]{2}(?:-[a-z]+)?)-[A-Z][A-Za-z0-9]*(?::[A-Za-z0-9]+)?Neural")));
    return re;
}

constexpr int kMaxUserAgentChars = 254; // Azure: fewer than 255

QString tenantOrDash(const QString &tenantId)
{
    return tenantId.isEmpty() ? QStringLiteral("-") : tenantId;
}

} // namespace

AzureSynthesizer::AzureSynthesizer(AzureSettings settings)
    : m_settings(std::move(settings))
    , m_url(m_settings.synthesisUrl())
    , m_formatSupported(AzureAudioDecoder::isSupported(m_settings.outputFormat))
{
    auto log = log::get("tts");
    if (!m_formatSupported)
        log->error("call=- tenant=- azure: output format '{}' cannot be turned into mu-law; Azure TTS disabled",
                   m_settings.outputFormat);
    if (!m_settings.key.isEmpty() && !m_url.isValid())
        log->error("call=- tenant=- azure: no usable region or URL (region '{}'); Azure TTS disabled", m_settings.region);
    if (!isAzureVoiceName(m_settings.defaultVoice))
        log->warn("call=- tenant=- azure: default voice '{}' does not look like an Azure voice name", m_settings.defaultVoice);
}

AzureSynthesizer::~AzureSynthesizer() = default;

bool AzureSynthesizer::supports(const SynthesisRequest &) const
{
    return !m_settings.key.isEmpty() && m_url.isValid() && m_formatSupported;
}

bool AzureSynthesizer::isAzureVoiceName(const QString &voice)
{
    return voicePattern().match(voice).hasMatch();
}

QString AzureSynthesizer::voiceLocale(const QString &voice)
{
    const QRegularExpressionMatch m = voicePattern().match(voice);
    return m.hasMatch() ? m.captured(1) : QString();
}

QString AzureSynthesizer::resolveVoice(const SynthesisRequest &request, const AzureSettings &settings)
{
    const QString voice = request.voice.trimmed();
    if (isAzureVoiceName(voice))
        return voice;
    // A tenant voice meant for flite/espeak-ng ("slt"): a neural voice of the
    // tenant's language rather than an English one reading Hindi.
    static const QHash<QString, QString> byLanguage{
        {QStringLiteral("hi"), QStringLiteral("hi-IN-SwaraNeural")},
        {QStringLiteral("en-in"), QStringLiteral("en-IN-NeerjaNeural")},
    };
    const QString language = request.language.trimmed().toLower();
    const QString forLanguage = byLanguage.value(language, byLanguage.value(language.section(QLatin1Char('-'), 0, 0)));
    return forLanguage.isEmpty() ? settings.defaultVoice.trimmed() : forLanguage;
}

QByteArray AzureSynthesizer::ssmlFor(const SynthesisRequest &request, const AzureSettings &settings)
{
    const QString voice = resolveVoice(request, settings);
    QString lang = voiceLocale(voice);
    if (lang.isEmpty()) // a default voice of an unknown shape: the tenant's language, else en-US
        lang = request.language.trimmed().isEmpty() ? QStringLiteral("en-US") : request.language.trimmed();
    return ssml::document(voice, lang, request.text);
}

QNetworkRequest AzureSynthesizer::httpRequest(const AzureSettings &settings)
{
    QNetworkRequest r(settings.synthesisUrl());
    r.setRawHeader("Ocp-Apim-Subscription-Key", settings.key.toUtf8());
    r.setRawHeader("Content-Type", "application/ssml+xml");
    r.setRawHeader("X-Microsoft-OutputFormat", settings.outputFormat.trimmed().toLatin1());
    const QString agent = settings.userAgent.isEmpty() ? QStringLiteral("apex") : settings.userAgent.left(kMaxUserAgentChars);
    r.setRawHeader("User-Agent", agent.toLatin1());
    // A redirect would carry the key to another host; Azure does not redirect.
    r.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    // Our idle deadline decides; Qt's own transfer timeout would race it.
    r.setTransferTimeout(0);
    return r;
}

SynthesisJob *AzureSynthesizer::synthesize(const SynthesisRequest &request, QObject *parent)
{
    auto *job = new AzureSynthesisJob(m_settings.outputFormat, m_settings.requestTimeoutMs, parent);
    job->setTenant(request.tenantId);
    if (!supports(request)) {
        job->failLater(AzureSynthesisJob::Failure::NotConfigured,
                       m_formatSupported ? QStringLiteral("Azure TTS not configured: key and region (or URL) needed")
                                         : QStringLiteral("Azure TTS output format '%1' is not supported").arg(m_settings.outputFormat));
        return job;
    }
    if (ssml::sanitizedText(request.text).trimmed().isEmpty()) {
        job->finishEmpty();
        return job;
    }
    const QByteArray body = ssmlFor(request, m_settings);
    log::get("tts")->debug("call=- tenant={} azure: {} chars, voice {}, format {}", tenantOrDash(request.tenantId),
                           request.text.size(), resolveVoice(request, m_settings), m_settings.outputFormat);
    job->start(HttpClientPool::forThread(QStringLiteral("azure-tts"))->post(httpRequest(m_settings), body));
    return job;
}

void AzureSynthesizer::warmUp()
{
    if (!m_url.isValid())
        return;
    HttpClientPool::forThread(QStringLiteral("azure-tts"))->preconnect(m_url);
}

} // namespace apex
