#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

// File I/O around SimulatedCaller, kept apart so the simulator itself needs no
// codec or WAV code (and its tests link without them).
namespace apex::callaudio {

// Any WAV apex::audio::Wav reads (PCM 8/16-bit, mu-law; any rate, mixed to
// mono) as 8 kHz mu-law, ready to be an utterance.
std::optional<QByteArray> readWavAsMulaw(const QString &path, QString *error = nullptr);

// 8 kHz mu-law as a 16-bit PCM WAV (what every player opens).
bool writeMulawAsWav(const QString &path, const QByteArray &mulaw, QString *error = nullptr);

} // namespace apex::callaudio
