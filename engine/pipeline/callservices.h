#pragma once

namespace apex {

class TenantRegistry;
class SpeechRecognizerFactory;
class ResponderFactory;
class SpeechSynthesizer;
class SessionStore;

// What a call session needs from the engine, injected rather than looked up, so
// tests can build a session around fakes. The engine owns all of these and
// outlives every session.
struct CallServices
{
    const TenantRegistry *tenants = nullptr;
    SpeechRecognizerFactory *recognizers = nullptr;
    ResponderFactory *responders = nullptr;
    SpeechSynthesizer *synthesizer = nullptr;
    SessionStore *sessions = nullptr; // optional: the call's turns, kept where a restart finds them
};

} // namespace apex
