// paygraph console: plain browser JavaScript, talking only to this gateway (HTTP and
// graphql-ws on /graphql). The token lives in sessionStorage; nothing is minted here.
(function () {
  'use strict';

  var TOKEN_KEY = 'paygraph.token';
  var FEED_LIMIT = 50;
  var WS_URL = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';

  // ---- GraphQL documents (names and shapes from the public contract) ----
  var MONEY = 'amount currency';
  var PARTY = 'id customer { id name }';
  var FEED_PAYMENT =
    'id status updatedAt createdAt reference amount { ' + MONEY + ' } ' +
    'source { ' + PARTY + ' } destination { ' + PARTY + ' } beneficiary { name country } ' +
    'riskAssessment { level score decision } complianceCheck { status }';
  var Q_RECENT = 'query ConsoleRecentPayments($first: Int) { payments(first: $first) { edges { node { ' + FEED_PAYMENT + ' } } } }';
  var S_FEED = 'subscription ConsoleFeed { paymentStatusChanged { cursor status previousStatus occurredAt payment { ' + FEED_PAYMENT + ' } } }';
  var Q_PAYMENT =
    'query ConsolePayment($id: ID!) { payment(id: $id) { ' +
    'id status reference createdAt updatedAt failureReason requiredApprovals ' +
    'amount { ' + MONEY + ' } refundedAmount { ' + MONEY + ' } ' +
    'approvals { approver approvedAt keyId } fx { rate targetAmount { ' + MONEY + ' } } ' +
    'approvalRequest { digest policy { required of signaturesRequired band } } ' +
    'source { id currency status balance { ' + MONEY + ' } customer { id name email country kyc { tier status } } } ' +
    'destination { id currency status customer { id name country kyc { tier status } } } ' +
    'beneficiary { name country accountNumber currency } ' +
    'riskAssessment { score level decision reasons assessedAt review { reviewer decision note reviewedAt } } ' +
    'complianceCheck { status checkedAt matches { listEntryId name score } } ' +
    'events { cursor status previousStatus occurredAt } } }';
  var Q_RISK_QUEUE =
    'query ConsoleRiskQueue { riskReviewQueue(first: 20) { edges { node { score level decision reasons assessedAt ' +
    'payment { id status amount { ' + MONEY + ' } source { ' + PARTY + ' } destination { ' + PARTY + ' } beneficiary { name country } } } } } }';
  var Q_STATUS_QUEUE =
    'query ConsoleStatusQueue($status: [PaymentStatus!]) { payments(filter: { status: $status }, first: 20) { edges { node { ' +
    FEED_PAYMENT + ' approvals { approver } requiredApprovals approvalRequest { policy { signaturesRequired } } complianceCheck { status matches { name score } } } } } }';
  var Q_ACCOUNT =
    'query ConsoleAccount($id: ID!, $after: String) { account(id: $id) { id currency status balance { ' + MONEY + ' } ' +
    'customer { id name email country kyc { tier status } } ' +
    'ledger(first: 25, after: $after) { edges { node { id direction sequence paymentId createdAt amount { ' + MONEY + ' } balanceAfter { ' + MONEY + ' } } } pageInfo { hasNextPage endCursor } } } }';
  var M_REVIEW_RISK = 'mutation ConsoleReviewRisk($paymentId: ID!, $decision: RiskDecision!, $note: String) { reviewRiskAssessment(paymentId: $paymentId, decision: $decision, note: $note) { decision } }';
  var M_APPROVE = 'mutation ConsoleApprove($id: ID!, $signature: String, $keyId: ID) { approvePayment(id: $id, signature: $signature, keyId: $keyId) { id status } }';
  var Q_APPROVAL_REQUEST = 'query ConsoleApprovalRequest($id: ID!) { payment(id: $id) { id approvalRequest { digest instruction policy { signaturesRequired } } } }';
  var M_REJECT = 'mutation ConsoleReject($id: ID!, $reason: String!) { rejectPayment(id: $id, reason: $reason) { id status } }';
  var M_CANCEL = 'mutation ConsoleCancel($id: ID!) { cancelPayment(id: $id) { id status } }';
  var M_RESOLVE = 'mutation ConsoleResolve($paymentId: ID!, $status: ComplianceStatus!, $note: String) { resolveComplianceCheck(paymentId: $paymentId, status: $status, note: $note) { status } }';

  // ---- small DOM helpers (text only: data never becomes markup) ----
  function $(id) { return document.getElementById(id); }
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === undefined || value === null || value === false) return;
        if (key === 'class') el.className = value;
        else if (key === 'text') el.textContent = value;
        else if (key.slice(0, 2) === 'on') el.addEventListener(key.slice(2), value);
        else el.setAttribute(key, value === true ? '' : String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  // ---- formatting ----
  function groupDigits(integer) { return integer.replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  // Decimal strings are formatted as text: no float ever touches an amount.
  function formatDecimal(amount) {
    var negative = amount.charAt(0) === '-';
    var parts = (negative ? amount.slice(1) : amount).split('.');
    return (negative ? '−' : '') + groupDigits(parts[0]) + (parts[1] ? '.' + parts[1] : '');
  }
  function money(m, cls) {
    if (!m) return h('span', { class: cls || 'feed-amount', text: '—' });
    return h('span', { class: cls || 'feed-amount' }, formatDecimal(m.amount), h('span', { class: 'currency', text: m.currency }));
  }
  function moneyText(m) { return m ? formatDecimal(m.amount) + ' ' + m.currency : '—'; }
  function humanize(value) { return String(value).replace(/_/g, ' ').toLowerCase().replace(/^./, function (c) { return c.toUpperCase(); }); }
  function badge(prefix, value, label) {
    if (!value) return null;
    return h('span', { class: 'badge ' + prefix + '-' + value, 'data-value': value }, label ? h('span', { class: 'k', text: label }) : null, humanize(value));
  }
  function time(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    var today = new Date();
    var sameDay = d.toDateString() === today.toDateString();
    return sameDay ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
  }
  function partyName(account) { return account && account.customer ? account.customer.name : account ? account.id : null; }
  function counterparty(payment) {
    if (payment.destination) return partyName(payment.destination);
    if (payment.beneficiary) return payment.beneficiary.name + ' (' + payment.beneficiary.country + ')';
    return '—';
  }

  // ---- token and identity ----
  function readToken() {
    var match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (match) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
      // Keep the token out of history and of anything the page might share.
      history.replaceState(null, '', location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }
  function claimsOf(token) {
    try {
      var part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(decodeURIComponent(escape(atob(part))));
    } catch (e) {
      return null;
    }
  }
  var token = null;
  var claims = {};
  var scopes = [];
  function hasScope(scope) { return scopes.indexOf(scope) >= 0 || scopes.indexOf('ops:admin') >= 0; }

  // ---- HTTP GraphQL ----
  function gql(query, variables) {
    return fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ query: query, variables: variables || {} }),
    }).then(function (response) {
      return response.json().catch(function () { return { errors: [{ message: 'HTTP ' + response.status }] }; });
    }).then(function (result) {
      if (result.errors && result.errors.length) {
        var first = result.errors[0];
        var error = new Error(first.message);
        error.code = first.extensions && first.extensions.code;
        error.data = result.data;
        if (error.code === 'UNAUTHENTICATED') signOut('Your token was refused: ' + first.message);
        throw error;
      }
      return result.data;
    });
  }
  function toast(message) {
    var el = $('toast');
    el.textContent = message;
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.hidden = true; }, 3500);
  }

  // ---- connection state ----
  function setConnection(state, label) {
    var el = $('connection');
    el.setAttribute('data-state', state);
    el.querySelector('.connection-label').textContent = label || state;
  }

  // ---- live feed ----
  var payments = new Map();
  var selectedId = null;

  function feedItem(payment, flash) {
    var li = h('li', {
      class: 'feed-item' + (payment.id === selectedId ? ' selected' : '') + (flash ? ' flash' : ''),
      tabindex: '0',
      role: 'button',
      'data-payment-id': payment.id,
      'data-status': payment.status,
      onclick: function () { openPayment(payment.id); },
      onkeydown: function (event) { if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); openPayment(payment.id); } },
    },
      money(payment.amount),
      h('span', { class: 'feed-status' }, badge('s', payment.status)),
      h('div', { class: 'feed-parties' }, partyName(payment.source) || '—', h('span', { class: 'arrow', text: '→' }), counterparty(payment)),
      h('div', { class: 'feed-meta' },
        payment.riskAssessment ? badge('r', payment.riskAssessment.level, 'risk') : h('span', { class: 'badge', text: 'risk pending' }),
        payment.complianceCheck ? badge('c', payment.complianceCheck.status, 'compliance') : h('span', { class: 'badge', text: 'screening pending' }),
        payment.previousStatus ? h('span', { class: 'transition', text: 'was ' + humanize(payment.previousStatus) }) : null,
        h('span', { class: 'time', text: time(payment.updatedAt) })));
    if (flash) setTimeout(function () { li.classList.remove('flash'); }, 1500);
    return li;
  }
  function renderFeedSummary() {
    $('feed-empty').hidden = payments.size > 0;
    $('feed-summary').textContent = payments.size ? payments.size + ' shown' : '';
  }
  function upsertPayment(payment, flash) {
    var feed = $('feed');
    var existing = feed.querySelector('[data-payment-id="' + CSS.escape(payment.id) + '"]');
    payments.set(payment.id, payment);
    var item = feedItem(payment, flash);
    if (existing) feed.removeChild(existing);
    feed.insertBefore(item, feed.firstChild);
    while (feed.children.length > FEED_LIMIT) {
      payments.delete(feed.lastChild.getAttribute('data-payment-id'));
      feed.removeChild(feed.lastChild);
    }
    renderFeedSummary();
  }
  function loadRecent() {
    return gql(Q_RECENT, { first: 25 }).then(function (data) {
      var nodes = data.payments.edges.map(function (e) { return e.node; }).reverse();
      nodes.forEach(function (p) { upsertPayment(p, false); });
    }).catch(function (error) { toast('Could not load payments: ' + error.message); });
  }

  var wsClient = null;
  function startFeed() {
    if (!window.graphqlWs) { setConnection('offline', 'no graphql-ws'); return; }
    var connectedBefore = false;
    wsClient = graphqlWs.createClient({
      url: WS_URL,
      connectionParams: function () { return { authorization: 'Bearer ' + token }; },
      retryAttempts: Infinity,
      shouldRetry: function () { return true; },
      on: {
        connecting: function () { setConnection('connecting', 'connecting'); },
        connected: function () {
          setConnection('live', 'live');
          // After a reconnect, catch up with what changed while we were away.
          if (connectedBefore) loadRecent();
          connectedBefore = true;
        },
        closed: function (event) {
          setConnection('offline', event && event.code === 4403 ? 'forbidden' : 'offline');
        },
      },
    });
    wsClient.subscribe({ query: S_FEED }, {
      next: function (result) {
        if (result.errors && result.errors.length) { toast(result.errors[0].message); }
        var event = result.data && result.data.paymentStatusChanged;
        if (!event) return;
        var payment = event.payment;
        payment.status = event.status;
        payment.previousStatus = event.previousStatus;
        upsertPayment(payment, true);
        if (payment.id === selectedId) openPayment(payment.id, true);
        if (event.status === 'REQUIRES_REVIEW' || event.status === 'REQUIRES_APPROVAL') loadReviewQueue();
      },
      error: function (error) {
        setConnection('offline', 'error');
        toast('Live feed: ' + (error && error.message ? error.message : 'connection failed'));
      },
      complete: function () { setConnection('offline', 'ended'); },
    });
  }

  // ---- signed approvals: the operator's Ed25519 key, in this tab's memory only ----
  var signingKey = null; // { keyId, key: a non-extractable CryptoKey }
  function bytesToHex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }
  function bytesToBase64(buffer) {
    return btoa(String.fromCharCode.apply(null, Array.prototype.slice.call(new Uint8Array(buffer))));
  }
  function importSigningKey(text) {
    text = text.trim();
    if (!window.crypto || !crypto.subtle) return Promise.reject(new Error('This browser offers no WebCrypto here (a secure origin is needed).'));
    if (text.charAt(0) === '{') {
      var jwk;
      try { jwk = JSON.parse(text); } catch (e) { return Promise.reject(new Error('The key is not valid JSON (JWK).')); }
      return crypto.subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['sign']);
    }
    var match = /^-----BEGIN PRIVATE KEY-----([\s\S]+)-----END PRIVATE KEY-----$/.exec(text);
    if (!match) return Promise.reject(new Error('Paste a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----) or a JWK.'));
    var der;
    try { der = Uint8Array.from(atob(match[1].replace(/\s+/g, '')), function (c) { return c.charCodeAt(0); }); } catch (e) { return Promise.reject(new Error('The PEM body is not base64.')); }
    return crypto.subtle.importKey('pkcs8', der, { name: 'Ed25519' }, false, ['sign']);
  }
  function showSigningKey() {
    $('signing-key-status').textContent = signingKey ? 'Signing approvals with key ' + signingKey.keyId + ' (in memory, this tab only).' : 'No signing key: approvals are unsigned.';
    $('signing-key-forget').hidden = !signingKey;
  }
  function useSigningKey(event) {
    event.preventDefault();
    var keyId = $('signing-key-id').value.trim();
    var field = $('signing-key');
    if (!/^akey_[0-9a-f]{24}$/.test(keyId)) { toast('The key id looks like akey_ and 24 hex digits.'); return; }
    importSigningKey(field.value).then(function (key) {
      signingKey = { keyId: keyId, key: key };
      field.value = ''; // the text goes; only the non-extractable key stays
      showSigningKey();
      toast('Signing key ready');
    }).catch(function (error) { toast('Could not use the key: ' + (error && error.message ? error.message : error)); });
  }
  /** Approves as the signed-in operator: signs the instruction's digest when a key is loaded, after recomputing it from the instruction. */
  function approvePayment(id) {
    return gql(Q_APPROVAL_REQUEST, { id: id }).then(function (data) {
      var request = data.payment && data.payment.approvalRequest;
      if (!signingKey) {
        if (request && request.policy.signaturesRequired) throw new Error('This payment needs a signed approval: load your signing key in the review queue first.');
        return gql(M_APPROVE, { id: id });
      }
      if (!request) throw new Error('This payment needs no approval.');
      return crypto.subtle.digest('SHA-256', new TextEncoder().encode(request.instruction)).then(function (digest) {
        if (bytesToHex(digest) !== request.digest) throw new Error('The digest given is not that of the instruction: not signing.');
        return crypto.subtle.sign({ name: 'Ed25519' }, signingKey.key, digest);
      }).then(function (signature) {
        return gql(M_APPROVE, { id: id, signature: bytesToBase64(signature), keyId: signingKey.keyId });
      });
    });
  }

  // ---- payment detail ----
  function facet(title) {
    var rows = [];
    for (var i = 1; i < arguments.length; i += 2) {
      if (arguments[i + 1] === undefined) continue;
      rows.push(h('dt', { text: arguments[i] }), h('dd', null, arguments[i + 1] === null ? '—' : arguments[i + 1]));
    }
    return h('section', { class: 'facet' }, h('h4', { text: title }), h('dl', null, rows));
  }
  function accountLink(account) {
    if (!account) return '—';
    return h('button', { type: 'button', class: 'link-button', text: account.id, onclick: function () { showAccount(account.id); } });
  }
  function customerLine(account) {
    if (!account || !account.customer) return null;
    var c = account.customer;
    return h('span', null, c.name + (c.country ? ' · ' + c.country : ''), ' ', c.kyc ? badge('k', c.kyc.status, 'KYC ' + humanize(c.kyc.tier)) : null);
  }
  function actionButtons(payment, rerender) {
    var buttons = [];
    var run = function (promise, done) {
      return promise.then(function () { toast(done); rerender(); loadReviewQueue(); }).catch(function (error) { toast(error.message); });
    };
    if (payment.status === 'REQUIRES_APPROVAL') {
      var reason = h('input', { placeholder: 'Reason to reject', 'aria-label': 'Reason to reject' });
      buttons.push(
        h('button', { type: 'button', class: 'approve', disabled: !hasScope('payments:approve'), text: 'Approve', onclick: function () { run(approvePayment(payment.id), 'Approved'); } }),
        reason,
        h('button', { type: 'button', class: 'reject', disabled: !hasScope('payments:approve'), text: 'Reject', onclick: function () { run(gql(M_REJECT, { id: payment.id, reason: reason.value || 'rejected in console' }), 'Rejected'); } }));
    }
    if (payment.status === 'REQUIRES_REVIEW' && payment.riskAssessment && payment.riskAssessment.decision === 'REVIEW') {
      buttons.push(
        h('button', { type: 'button', class: 'approve', disabled: !hasScope('risk:review'), text: 'Approve risk', onclick: function () { run(gql(M_REVIEW_RISK, { paymentId: payment.id, decision: 'APPROVE' }), 'Risk approved'); } }),
        h('button', { type: 'button', class: 'reject', disabled: !hasScope('risk:review'), text: 'Decline risk', onclick: function () { run(gql(M_REVIEW_RISK, { paymentId: payment.id, decision: 'DECLINE' }), 'Risk declined'); } }));
    }
    if (['PENDING', 'REQUIRES_REVIEW', 'REQUIRES_APPROVAL'].indexOf(payment.status) >= 0) {
      buttons.push(h('button', { type: 'button', class: 'secondary', disabled: !hasScope('payments:write'), text: 'Cancel payment', onclick: function () { run(gql(M_CANCEL, { id: payment.id }), 'Canceled'); } }));
    }
    return buttons.length ? h('div', { class: 'actions' }, buttons) : null;
  }
  function renderDetail(payment) {
    var risk = payment.riskAssessment;
    var compliance = payment.complianceCheck;
    var panel = h('div', { class: 'card detail-panel', 'data-payment-id': payment.id },
      h('button', { type: 'button', class: 'secondary back', text: '← Back to feed', onclick: closeDetail }),
      h('div', { class: 'detail-head' },
        h('div', null, money(payment.amount), h('div', { class: 'detail-id', text: payment.id })),
        badge('s', payment.status)),
      payment.failureReason ? h('p', { class: 'error', text: payment.failureReason }) : null,
      actionButtons(payment, function () { openPayment(payment.id, true); }),
      h('div', { class: 'facets' },
        facet('Payment · payments',
          'Reference', payment.reference,
          'Created', time(payment.createdAt),
          'Updated', time(payment.updatedAt),
          'Refunded', moneyText(payment.refundedAmount),
          'Approvals', payment.approvals.length + ' of ' + payment.requiredApprovals + (payment.approvals.length ? ' (' + payment.approvals.map(function (a) { return a.approver + (a.keyId ? ' · signed ' + a.keyId : ''); }).join(', ') + ')' : ''),
          'Approval policy', payment.approvalRequest ? payment.approvalRequest.policy.band + ' · ' + payment.approvalRequest.policy.required + ' of ' + payment.approvalRequest.policy.of : undefined,
          'Instruction digest', payment.approvalRequest ? h('code', { class: 'digest', text: payment.approvalRequest.digest }) : undefined,
          'FX', payment.fx ? payment.fx.rate + ' → ' + moneyText(payment.fx.targetAmount) : undefined),
        facet('Parties · accounts',
          'From', h('span', null, customerLine(payment.source), h('br'), accountLink(payment.source)),
          'Balance', payment.source && payment.source.balance ? moneyText(payment.source.balance) : undefined,
          'To', payment.destination ? h('span', null, customerLine(payment.destination), h('br'), accountLink(payment.destination)) : undefined,
          'Beneficiary', payment.beneficiary ? payment.beneficiary.name + ' · ' + payment.beneficiary.country + ' · ' + payment.beneficiary.accountNumber : undefined),
        facet('Risk · risk',
          'Level', risk ? h('span', null, badge('r', risk.level), ' score ' + risk.score) : null,
          'Decision', risk ? badge('d', risk.decision) : null,
          'Reasons', risk && risk.reasons.length ? h('ul', { class: 'reasons' }, risk.reasons.map(function (r) { return h('li', { text: r }); })) : undefined,
          'Review', risk && risk.review ? risk.review.reviewer + ': ' + humanize(risk.review.decision) + (risk.review.note ? ' — ' + risk.review.note : '') : undefined),
        facet('Compliance · compliance',
          'Screening', compliance ? badge('c', compliance.status) : null,
          'Checked', compliance ? time(compliance.checkedAt) : undefined,
          'Matches', compliance && compliance.matches.length ? compliance.matches.map(function (m) { return m.name + ' (' + Math.round(m.score * 100) + '%)'; }).join(', ') : undefined)),
      h('section', { class: 'facet', style: 'margin-top:10px' },
        h('h4', { text: 'Event timeline' }),
        h('ol', { class: 'timeline' }, payment.events.map(function (e) {
          return h('li', null, h('time', { text: time(e.occurredAt) }), e.previousStatus ? humanize(e.previousStatus) + ' → ' : '', h('strong', { text: humanize(e.status) }));
        }))));
    var detail = clear($('detail'));
    detail.appendChild(panel);
  }
  function openPayment(id, quiet) {
    selectedId = id;
    document.querySelectorAll('.feed-item').forEach(function (el) { el.classList.toggle('selected', el.getAttribute('data-payment-id') === id); });
    selectView('feed');
    document.querySelector('.view-feed').classList.add('has-detail');
    if (!quiet) clear($('detail')).appendChild(h('div', { class: 'card detail-panel', text: 'Loading…' }));
    gql(Q_PAYMENT, { id: id }).then(function (data) {
      if (!data.payment) { toast('Payment not found'); return; }
      if (selectedId === id) renderDetail(data.payment);
    }).catch(function (error) { toast(error.message); });
  }
  function closeDetail() {
    selectedId = null;
    document.querySelector('.view-feed').classList.remove('has-detail');
    document.querySelectorAll('.feed-item.selected').forEach(function (el) { el.classList.remove('selected'); });
  }

  // ---- review queue ----
  function queueItem(payment, extra, buttons) {
    return h('li', { class: 'card queue-item', 'data-payment-id': payment.id },
      h('div', { class: 'top' }, money(payment.amount), badge('s', payment.status)),
      h('div', { class: 'feed-parties' }, partyName(payment.source) || '—', h('span', { class: 'arrow', text: '→' }), counterparty(payment)),
      h('div', { class: 'feed-meta' }, extra),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', text: 'Details', onclick: function () { openPayment(payment.id); } }),
        buttons));
  }
  function fillQueue(list, items, emptyText) {
    clear(list);
    if (!items.length) list.appendChild(h('li', { class: 'queue-empty', text: emptyText }));
    items.forEach(function (item) { list.appendChild(item); });
  }
  function decide(promise, message) {
    promise.then(function () { toast(message); loadReviewQueue(); }).catch(function (error) { toast(error.message); });
  }
  // Loads can overlap (an event and a tab click): only the newest one fills the queues, so
  // an older answer arriving last cannot show a payment as it was before.
  var reviewLoads = 0;
  function loadReviewQueue() {
    $('review-error').textContent = '';
    var load = ++reviewLoads;
    var current = function () { return load === reviewLoads; };
    var pending = 0;
    var risk = hasScope('risk:review')
      ? gql(Q_RISK_QUEUE).then(function (data) {
        if (!current()) return;
        var items = data.riskReviewQueue.edges.map(function (edge) {
          var a = edge.node;
          return queueItem(a.payment, [badge('r', a.level, 'risk'), h('span', { text: 'score ' + a.score }), h('span', { text: a.reasons.join(' · ') })], [
            h('button', { type: 'button', class: 'approve', text: 'Approve', onclick: function () { decide(gql(M_REVIEW_RISK, { paymentId: a.payment.id, decision: 'APPROVE', note: 'approved in console' }), 'Risk approved'); } }),
            h('button', { type: 'button', class: 'reject', text: 'Decline', onclick: function () { decide(gql(M_REVIEW_RISK, { paymentId: a.payment.id, decision: 'DECLINE', note: 'declined in console' }), 'Risk declined'); } }),
          ]);
        });
        pending += items.length;
        fillQueue($('risk-queue'), items, 'Nothing waits for a risk review.');
      })
      : Promise.resolve(fillQueue($('risk-queue'), [], 'Your token lacks risk:review.'));
    var approvals = gql(Q_STATUS_QUEUE, { status: ['REQUIRES_APPROVAL'] }).then(function (data) {
      if (!current()) return;
      var items = data.payments.edges.map(function (edge) {
        var p = edge.node;
        var reason = h('input', { placeholder: 'Reason to reject', 'aria-label': 'Reason to reject' });
        var signed = p.approvalRequest && p.approvalRequest.policy.signaturesRequired;
        return queueItem(p, [h('span', { text: p.approvals.length + ' of ' + p.requiredApprovals + (signed ? ' signatures' : ' approvals') }), badge('r', p.riskAssessment && p.riskAssessment.level, 'risk')], [
          h('button', { type: 'button', class: 'approve', disabled: !hasScope('payments:approve'), text: 'Approve', onclick: function () { decide(approvePayment(p.id), 'Approved'); } }),
          reason,
          h('button', { type: 'button', class: 'reject', disabled: !hasScope('payments:approve'), text: 'Reject', onclick: function () { decide(gql(M_REJECT, { id: p.id, reason: reason.value || 'rejected in console' }), 'Rejected'); } }),
        ]);
      });
      pending += items.length;
      fillQueue($('approval-queue'), items, 'Nothing waits for an approval.');
    });
    var compliance = hasScope('compliance:review')
      ? gql(Q_STATUS_QUEUE, { status: ['REQUIRES_REVIEW'] }).then(function (data) {
        if (!current()) return;
        var items = data.payments.edges.map(function (e) { return e.node; }).filter(function (p) {
          return p.complianceCheck && p.complianceCheck.status === 'POTENTIAL_MATCH';
        }).map(function (p) {
          return queueItem(p, [badge('c', 'POTENTIAL_MATCH'), h('span', { text: p.complianceCheck.matches.map(function (m) { return m.name; }).join(', ') })], [
            h('button', { type: 'button', class: 'approve', text: 'Clear', onclick: function () { decide(gql(M_RESOLVE, { paymentId: p.id, status: 'CLEAR', note: 'cleared in console' }), 'Cleared'); } }),
            h('button', { type: 'button', class: 'reject', text: 'Block', onclick: function () { decide(gql(M_RESOLVE, { paymentId: p.id, status: 'BLOCKED', note: 'blocked in console' }), 'Blocked'); } }),
          ]);
        });
        pending += items.length;
        fillQueue($('compliance-queue'), items, 'No potential sanctions matches.');
      })
      : Promise.resolve(fillQueue($('compliance-queue'), [], 'Your token lacks compliance:review.'));
    return Promise.all([risk, approvals, compliance]).then(function () {
      if (!current()) return;
      var count = $('review-count');
      count.textContent = String(pending);
      count.hidden = pending === 0;
    }).catch(function (error) { $('review-error').textContent = error.message; });
  }

  // ---- accounts ----
  function ledgerRows(edges) {
    return edges.map(function (edge) {
      var e = edge.node;
      return h('tr', null,
        h('td', null, String(e.sequence)),
        h('td', { class: e.direction }, humanize(e.direction)),
        h('td', { class: 'num ' + e.direction }, (e.direction === 'DEBIT' ? '−' : '+') + moneyText(e.amount)),
        h('td', { class: 'num' }, moneyText(e.balanceAfter)),
        h('td', { class: 'hide-narrow' }, e.paymentId ? h('button', { type: 'button', class: 'link-button', text: e.paymentId, onclick: function () { openPayment(e.paymentId); } }) : 'deposit'),
        h('td', { class: 'hide-narrow' }, time(e.createdAt)));
    });
  }
  function showAccount(id) {
    selectView('accounts');
    $('account-id').value = id;
    $('account-error').textContent = '';
    gql(Q_ACCOUNT, { id: id }).then(function (data) {
      var a = data.account;
      var target = clear($('account'));
      if (!a) { $('account-error').textContent = 'No such account.'; return; }
      var body = h('tbody', null, ledgerRows(a.ledger.edges));
      var more = h('button', { type: 'button', class: 'secondary', text: 'Older entries', hidden: !a.ledger.pageInfo.hasNextPage });
      var cursor = a.ledger.pageInfo.endCursor;
      more.addEventListener('click', function () {
        gql(Q_ACCOUNT, { id: id, after: cursor }).then(function (next) {
          append(body, ledgerRows(next.account.ledger.edges));
          cursor = next.account.ledger.pageInfo.endCursor;
          more.hidden = !next.account.ledger.pageInfo.hasNextPage;
        }).catch(function (error) { toast(error.message); });
      });
      target.appendChild(h('div', { class: 'card account-card', 'data-account-id': a.id },
        h('div', { class: 'detail-head' },
          h('div', null, h('div', { class: 'muted', text: a.customer ? a.customer.name + ' · ' + a.customer.country : '' }), h('div', { class: 'detail-id', text: a.id })),
          h('div', null, badge('a', a.status), ' ', a.customer && a.customer.kyc ? badge('k', a.customer.kyc.status, 'KYC ' + humanize(a.customer.kyc.tier)) : null)),
        h('div', { class: 'balance' }, money(a.balance, 'balance-amount')),
        h('table', { class: 'ledger' },
          h('thead', null, h('tr', null, h('th', { text: '#' }), h('th', { text: 'Entry' }), h('th', { text: 'Amount' }), h('th', { text: 'Balance after' }), h('th', { class: 'hide-narrow', text: 'Payment' }), h('th', { class: 'hide-narrow', text: 'When' }))),
          body),
        h('div', { class: 'actions' }, more)));
    }).catch(function (error) { $('account-error').textContent = error.message; });
  }

  // ---- views ----
  function selectView(name) {
    document.querySelectorAll('.tab').forEach(function (tab) { tab.setAttribute('aria-selected', String(tab.getAttribute('data-view') === name)); });
    document.querySelectorAll('.view').forEach(function (view) { view.hidden = view.getAttribute('data-view') !== name; });
    if (name === 'review') loadReviewQueue();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    signingKey = null; // the key goes with the session
    showSigningKey();
    if (wsClient) wsClient.dispose();
    wsClient = null;
    token = null;
    $('app').hidden = true;
    $('identity').hidden = true;
    $('signin').hidden = false;
    setConnection('offline', 'offline');
    $('signin-error').textContent = message || '';
  }

  function start() {
    token = readToken();
    if (!token) { signOut(); return; }
    claims = claimsOf(token) || {};
    scopes = String(claims.scope || '').split(/\s+/).filter(Boolean);
    $('signin').hidden = true;
    $('app').hidden = false;
    $('identity').hidden = false;
    $('identity-name').textContent = (claims.sub || 'signed in') + (claims.customer_id ? ' (customer)' : '');
    clear($('feed'));
    payments.clear();
    renderFeedSummary();
    loadRecent().then(startFeed);
    if (hasScope('risk:review') || hasScope('payments:approve')) loadReviewQueue();
  }

  document.querySelectorAll('.tab').forEach(function (tab) {
    tab.addEventListener('click', function () { selectView(tab.getAttribute('data-view')); });
  });
  $('review-refresh').addEventListener('click', loadReviewQueue);
  $('signing-key-form').addEventListener('submit', useSigningKey);
  $('signing-key-forget').addEventListener('click', function () { signingKey = null; showSigningKey(); });
  $('sign-out').addEventListener('click', function () { signOut(); });
  $('account-form').addEventListener('submit', function (event) { event.preventDefault(); showAccount($('account-id').value.trim()); });
  $('signin-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var value = $('token-input').value.trim().replace(/^Bearer\s+/i, '');
    if (!claimsOf(value)) { $('signin-error').textContent = 'That does not look like a JWT.'; return; }
    sessionStorage.setItem(TOKEN_KEY, value);
    $('token-input').value = '';
    start();
  });
  window.addEventListener('hashchange', function () { if (/token=/.test(location.hash)) start(); });
  start();
})();
