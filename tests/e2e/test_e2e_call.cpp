// The product end to end, as real processes on 127.0.0.1: apex-engine on the
// embedded default answers apex-call, which plays Twilio, speaks FAQ questions in
// flite's voice and records what the agent says. The recording is transcribed
// back with pocketsphinx (a model built from the FAQ answers) and must contain
// the expected answers' key words.

#include "stt/pocketsphinx/pocketsphinxtranscriber.h"
#include "tenancy/engineconfig.h"
#include "testsupport.h"

#include "audio/wav.h"
#include "audio/g711.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

using namespace apex;

namespace {

QByteArray twilioJson(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QString bin(const QString &name)
{
    return test::binaryDir() + QLatin1Char('/') + name;
}

} // namespace

class TestEndToEndCall : public QObject
{
    Q_OBJECT

private:
    QProcess m_engine;
    quint16 m_port = 0;
    QTemporaryDir m_dir;
    EngineConfig m_config;

    bool engineHealthy()
    {
        QNetworkAccessManager nam;
        QNetworkReply *reply = nam.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/healthz").arg(m_port))));
        QSignalSpy done(reply, &QNetworkReply::finished);
        done.wait(2000);
        const bool ok = reply->error() == QNetworkReply::NoError && reply->readAll().contains("ok");
        reply->deleteLater();
        return ok;
    }

    // Runs apex-call to completion; returns its stdout.
    QString runCaller(const QStringList &arguments, int *exitCode)
    {
        QProcess caller;
        caller.setProcessChannelMode(QProcess::SeparateChannels);
        caller.start(bin(QStringLiteral("apex-call")),
                     QStringList{QStringLiteral("--engine"), QStringLiteral("127.0.0.1:%1").arg(m_port)} + arguments);
        if (!caller.waitForStarted(5000)) {
            *exitCode = -1;
            return {};
        }
        caller.waitForFinished(120000);
        *exitCode = caller.exitStatus() == QProcess::NormalExit ? caller.exitCode() : -1;
        const QString out = QString::fromUtf8(caller.readAllStandardOutput());
        qInfo().noquote() << out << QString::fromUtf8(caller.readAllStandardError()).right(2000);
        return out;
    }

    static QString transcribeAgent(const QString &wavPath, const QStringList &sentences)
    {
        const auto audio = audio::Wav::read(wavPath);
        if (!audio)
            return {};
        PocketsphinxTranscriber transcriber(sentences);
        if (!transcriber.isValid())
            return QStringLiteral("(transcriber: %1)").arg(transcriber.errorString());
        return transcriber.transcribe(audio->samples, audio->sampleRateHz).text;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(bin(QStringLiteral("apex-engine"))), "run through ctest: APEX_BIN_DIR names the built binaries");
        ConfigError error;
        const auto config = EngineConfigLoader::loadFile(QStringLiteral(APEX_RESOURCES_DIR "/config/apex.json"), &error);
        QVERIFY2(config, qPrintable(error.message));
        m_config = *config;

        m_port = test::freeLoopbackPort();
        m_engine.setProcessChannelMode(QProcess::ForwardedChannels);
        m_engine.start(bin(QStringLiteral("apex-engine")),
                       {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(m_port)});
        QVERIFY(m_engine.waitForStarted(5000));
        QTRY_VERIFY_WITH_TIMEOUT(engineHealthy(), 30000);
    }

    void cleanupTestCase()
    {
        if (m_engine.state() != QProcess::NotRunning) {
            m_engine.terminate();
            if (!m_engine.waitForFinished(10000))
                m_engine.kill();
            QCOMPARE(m_engine.exitStatus(), QProcess::NormalExit);
            QCOMPARE(m_engine.exitCode(), 0);
        }
    }

    void answersTwoSpokenFaqQuestions()
    {
        const QString record = m_dir.filePath(QStringLiteral("agent.wav"));
        int exitCode = 0;
        const QString out = runCaller({QStringLiteral("--voice"), QStringLiteral("rms"),
                                       QStringLiteral("--say"), QStringLiteral("What are your opening hours?"),
                                       QStringLiteral("--say"), QStringLiteral("Do you have parking?"),
                                       QStringLiteral("--record"), record},
                                      &exitCode);
        QCOMPARE(exitCode, 0);
        QVERIFY(out.contains(QStringLiteral(": ok")));
        QVERIFY(out.contains(QStringLiteral("malformed frames 0")));
        QVERIFY(out.contains(QRegularExpression(QStringLiteral("turn 1: end-of-speech → first agent frame: \\d+ ms"))));
        QVERIFY(out.contains(QRegularExpression(QStringLiteral("turn 2: end-of-speech → first agent frame: \\d+ ms"))));

        // What the agent said, heard back through speech recognition.
        QStringList sentences{m_config.tenants.first().greeting, m_config.tenants.first().fallbackLine};
        for (const auto &entry : m_config.tenants.first().faq)
            sentences << entry.answer;
        const QString heard = transcribeAgent(record, sentences).toLower();
        qInfo().noquote() << "agent heard as:" << heard;
        QVERIFY2(heard.contains(QStringLiteral("sunrise dental")), qPrintable(heard)); // the greeting
        int hoursWords = 0;
        for (const char *word : {"monday", "saturday", "nine", "morning", "evening"})
            hoursWords += heard.contains(QLatin1String(word)) ? 1 : 0;
        QVERIFY2(hoursWords >= 3, qPrintable(heard));
        QVERIFY2(heard.contains(QStringLiteral("parking")), qPrintable(heard));
        QVERIFY2(heard.contains(QStringLiteral("building")), qPrintable(heard));
        QVERIFY2(heard.indexOf(QStringLiteral("saturday")) < heard.indexOf(QStringLiteral("parking")), qPrintable(heard));
    }

    void bargeInClearsTheAgent()
    {
        // The caller talks over the long opening-hours answer 600 ms into it.
        const QString record = m_dir.filePath(QStringLiteral("barge.wav"));
        int exitCode = 0;
        const QString out = runCaller({QStringLiteral("--voice"), QStringLiteral("rms"),
                                       QStringLiteral("--say"), QStringLiteral("What are your opening hours?"),
                                       QStringLiteral("--say"), QStringLiteral("Do you have parking?"),
                                       QStringLiteral("--barge-in-after-ms"), QStringLiteral("600"),
                                       QStringLiteral("--record"), record},
                                      &exitCode);
        QCOMPARE(exitCode, 0);
        QVERIFY2(out.contains(QRegularExpression(QStringLiteral("barge-in: clear after \\d+ ms"))), qPrintable(out));
        QVERIFY(!out.contains(QStringLiteral("clears 0")));
        // The interrupted answer was cut: most of the hours sentence never played.
        QStringList sentences{m_config.tenants.first().greeting};
        for (const auto &entry : m_config.tenants.first().faq)
            sentences << entry.answer;
        const QString heard = transcribeAgent(record, sentences).toLower();
        qInfo().noquote() << "agent heard as:" << heard;
        QVERIFY2(!heard.contains(QStringLiteral("evening")), qPrintable(heard));
        QVERIFY2(heard.contains(QStringLiteral("parking")), qPrintable(heard));
    }

    void hostileStreamsDoNotHurtAGoodCall()
    {
        // A good call runs while other sockets send what a broken or hostile
        // client would; each of those is closed, the good call completes.
        QProcess caller;
        caller.start(bin(QStringLiteral("apex-call")),
                     {QStringLiteral("--engine"), QStringLiteral("127.0.0.1:%1").arg(m_port), QStringLiteral("--voice"),
                      QStringLiteral("rms"), QStringLiteral("--say"), QStringLiteral("Do you have parking?")});
        QVERIFY(caller.waitForStarted(5000));

        const QByteArray start = twilioJson({{"event", "start"}, {"sequenceNumber", "1"}, {"streamSid", "MZbad"},
                                             {"start", QJsonObject{{"streamSid", "MZbad"}, {"accountSid", "AC1"},
                                                                   {"callSid", "CAbad"},
                                                                   {"customParameters", QJsonObject{{"tenant", "demo"}}}}}});
        auto media = [](const char *payload) {
            return twilioJson({{"event", "media"}, {"sequenceNumber", "2"}, {"streamSid", "MZbad"},
                               {"media", QJsonObject{{"track", "inbound"}, {"chunk", "1"}, {"timestamp", "0"},
                                                     {"payload", payload}}}});
        };
        const QList<QList<QByteArray>> scripts{
            {QByteArray("{not json")},
            {start, media("***not base64***")},
            {media("//8=")}, // media before start
            {start, twilioJson({{"event", "teleport"}, {"sequenceNumber", "2"}, {"streamSid", "MZbad"}})},
            {start, QByteArray(70 * 1024, 'x')},
        };
        QList<QWebSocket *> sockets;
        QList<QSignalSpy *> closed;
        for (const auto &script : scripts) {
            auto *socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
            closed << new QSignalSpy(socket, &QWebSocket::disconnected);
            connect(socket, &QWebSocket::connected, socket, [socket, script] {
                for (const auto &message : script)
                    socket->sendTextMessage(QString::fromUtf8(message));
            });
            socket->open(QUrl(QStringLiteral("ws://127.0.0.1:%1/twilio/media").arg(m_port)));
            sockets << socket;
        }
        for (auto *spy : closed)
            QTRY_VERIFY_WITH_TIMEOUT(spy->size() == 1, 10000);
        for (auto *socket : sockets)
            QVERIFY(socket->closeCode() != QWebSocketProtocol::CloseCodeNormal);

        QVERIFY(caller.waitForFinished(60000));
        const QString out = QString::fromUtf8(caller.readAllStandardOutput());
        QCOMPARE(caller.exitCode(), 0);
        QVERIFY2(out.contains(QStringLiteral(": ok")), qPrintable(out));
        QVERIFY(engineHealthy());
        qDeleteAll(closed);
        qDeleteAll(sockets);
    }

    void unknownTenantIsHungUpCleanly()
    {
        int exitCode = 0;
        const QString out = runCaller({QStringLiteral("--tenant"), QStringLiteral("no-such-tenant"),
                                       QStringLiteral("--say"), QStringLiteral("Hello?"),
                                       QStringLiteral("--timeout-ms"), QStringLiteral("5000")},
                                      &exitCode);
        QVERIFY(exitCode != 0); // the call did not complete its script
        QVERIFY(out.contains(QStringLiteral("FAILED")));
        QVERIFY(out.contains(QStringLiteral("frames received 0")));
        // ... and the engine is still answering other calls.
        QVERIFY(engineHealthy());
    }
};

QTEST_GUILESS_MAIN(TestEndToEndCall)
#include "test_e2e_call.moc"
