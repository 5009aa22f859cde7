// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title TipJar
/// @notice A tip jar whose owner pays out contributors.
contract TipJarTest030 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public governor;
    uint256 public protocolFeeBps;
    uint256 public poolTotal;
    bool public paused;
    mapping(address => uint256) public balances;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == governor, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        governor = msg.sender;
        protocolFeeBps = initialFee;
    }

    /// @notice Add the caller to the member list once.
    function register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }

    /// @notice Send the caller's whole balance back to the caller.
    function exitPool() external {
        uint256 amount = balances[msg.sender];
        require(amount > 0, "nothing to claim");
        balances[msg.sender] = 0;
        poolTotal -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function collectFees(address payable to, uint256 amount) external onlyOwner {
        require(to != address(0), "zero address");
        require(address(this).balance - poolTotal >= amount, "would touch deposits");
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "sweep failed");
        emit Swept(to, amount);
    }

    /// @notice Stop or resume deposits.
    function setHalted(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice The protocol fee on `amount`, in wei.
    function previewFee(uint256 amount) public view returns (uint256) {
        return amount * protocolFeeBps / BPS_DENOMINATOR;
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function updateFee(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(protocolFeeBps, newFee);
        protocolFeeBps = newFee;
    }

    /// @notice Add the ether sent to the caller's balance.
    function fund() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        balances[msg.sender] += msg.value;
        poolTotal += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice The ether the pool owes its members.
    function heldBalance() external view returns (uint256) {
        return poolTotal;
    }
}
