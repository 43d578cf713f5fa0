// Passkeys (WebAuthn): add one ([data-passkey="register"]) or sign in with one ([data-passkey="sign-in"]).
// The server sends the options as JSON with binary fields in base64url; this turns them into ArrayBuffers for
// navigator.credentials, and the answer back into base64url JSON, posted with the CSRF token in X-CSRFToken.
// Every word shown comes from the page's data-msg-* attributes (translated there), none from this file.
(function () {
  "use strict";

  function toBuffer(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBuffers(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBuffer(item.id), transports: item.transports };
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBuffer(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBuffer(json.user.id) });
    options.excludeCredentials = withBuffers(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBuffer(json.challenge);
    options.allowCredentials = withBuffers(json.allowCredentials);
    return options;
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (credential.authenticatorAttachment) { out.authenticatorAttachment = credential.authenticatorAttachment; }
    if (response.attestationObject) {
      out.response.attestationObject = toBase64url(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toBase64url(response.authenticatorData);
      out.response.signature = toBase64url(response.signature);
      if (response.userHandle) { out.response.userHandle = toBase64url(response.userHandle); }
    }
    return out;
  }

  function csrfToken(root) {
    var input = root.querySelector("input[name=csrf_token]") || document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  // POST JSON; a redirect (the step expired, or is not this person's) is followed by the whole page.
  function postJSON(url, root, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken(root) },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      if (response.redirected) {
        window.location.assign(response.url);
        return new Promise(function () {});
      }
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, data: data };
      });
    });
  }

  function say(root, key, text) {
    var box = root.querySelector("[data-passkey-message]");
    if (!box) { return; }
    box.textContent = text || root.getAttribute("data-msg-" + key) || "";
    box.classList.toggle("flash-error", key !== "working");
    box.classList.toggle("flash-info", key === "working");
    box.hidden = !box.textContent;
  }

  function showCodes(codes, target) {
    var setup = document.querySelector("[data-passkey-setup]");
    var panel = document.querySelector("[data-passkey-codes]");
    var list = panel && panel.querySelector("[data-passkey-code-list]");
    if (!list) { window.location.assign(target); return; }
    codes.forEach(function (code) {
      var item = document.createElement("li");
      var text = document.createElement("code");
      text.textContent = code;
      item.appendChild(text);
      list.appendChild(item);
    });
    panel.querySelector("[data-passkey-continue]").setAttribute("href", target);
    if (setup) { setup.hidden = true; }
    panel.hidden = false;
    var heading = panel.querySelector("h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  }

  function finish(root, result) {
    if (result.data.codes && result.data.codes.length) { showCodes(result.data.codes, result.data.redirect); return; }
    if (result.data.redirect) { window.location.assign(result.data.redirect); return; }
    say(root, "failed", result.data.error);
  }

  function browserProblem(root, error) {
    var name = error && error.name;
    if (name === "InvalidStateError") { say(root, "exists"); }
    else if (name === "NotAllowedError" || name === "AbortError") { say(root, "cancelled"); }
    else { say(root, "failed"); }
  }

  function register(root, button) {
    var nameInput = root.querySelector("input[name=name]");
    var name = nameInput ? nameInput.value.trim() : "";
    if (nameInput && !name) {
      nameInput.setAttribute("aria-invalid", "true");
      nameInput.focus();
      say(root, "failed", nameInput.getAttribute("data-msg-required") || root.getAttribute("data-msg-name"));
      return;
    }
    if (nameInput) { nameInput.removeAttribute("aria-invalid"); }
    button.disabled = true;
    say(root, "working");
    postJSON(root.dataset.optionsUrl, root).then(function (result) {
      if (!result.ok) { throw { server: result }; }
      return navigator.credentials.create({ publicKey: creationOptions(result.data) });
    }).then(function (credential) {
      return postJSON(root.dataset.verifyUrl, root, { name: name, credential: credentialJSON(credential) });
    }).then(function (result) {
      finish(root, result);
    }).catch(function (error) {
      if (error && error.server) { say(root, "failed", error.server.data.error); } else { browserProblem(root, error); }
    }).then(function () { button.disabled = false; });
  }

  function signIn(root, button) {
    button.disabled = true;
    say(root, "working");
    postJSON(root.dataset.optionsUrl, root).then(function (result) {
      if (!result.ok) { throw { server: result }; }
      return navigator.credentials.get({ publicKey: requestOptions(result.data) });
    }).then(function (credential) {
      return postJSON(root.dataset.verifyUrl, root, { credential: credentialJSON(credential) });
    }).then(function (result) {
      finish(root, result);
    }).catch(function (error) {
      if (error && error.server) { say(root, "failed", error.server.data.error); } else { browserProblem(root, error); }
    }).then(function () { button.disabled = false; });
  }

  var supported = !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.create &&
                     window.fetch && window.isSecureContext !== false);
  document.querySelectorAll("[data-passkey]").forEach(function (root) {
    var button = root.querySelector("[data-passkey-start]");
    if (!button) { return; }
    if (!supported) { say(root, "unsupported"); return; }
    button.hidden = false;
    var start = root.dataset.passkey === "register" ? register : signIn;
    if (root.tagName === "FORM") {
      root.addEventListener("submit", function (event) { event.preventDefault(); start(root, button); });
    } else {
      button.addEventListener("click", function () { start(root, button); });
    }
  });
})();
